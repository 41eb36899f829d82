#include "probe_run.h"

#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

#include "netns.h"
#include "token.h"

namespace netpol::live {

RunCounts probe_entries(std::vector<Plan::Entry>& entries,
                        const std::map<std::string, SourcePlace>& places, const ProberOptions& options,
                        const DestinationView& view, std::chrono::milliseconds settle) {
  // Group by source; every probe gets its own token.
  std::map<std::string, std::vector<std::size_t>> by_source;
  std::vector<Probe> probes(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& c = entries[i].cell;
    probes[i].id = i;
    probes[i].proto = c.proto;
    probes[i].destination = c.destination_address;
    probes[i].port = c.port;
    probes[i].token = make_token();
    by_source[c.source].push_back(i);
  }
  std::vector<ProbeResult> results(entries.size());
  for (std::size_t i = 0; i < results.size(); ++i) results[i].id = i;

  const auto start = std::chrono::steady_clock::now();
  std::mutex failure_mutex;
  std::map<std::string, std::string> failures;  // source -> why it could not probe
  std::vector<std::thread> threads;
  std::size_t sent = 0;
  for (const auto& [source, indexes] : by_source) {
    const auto place = places.find(source);
    if (place == places.end()) {
      failures[source] = "no place to probe from";
      continue;
    }
    sent += indexes.size();
    threads.emplace_back([&, indexes = indexes, where = place->second, name = source] {
      try {
        std::vector<Probe> mine;
        for (auto i : indexes) {
          Probe p = probes[i];
          p.source_address = where.address.empty() ? entries[i].cell.source_address : where.address;
          p.device = where.device;
          mine.push_back(p);
        }
        std::vector<ProbeResult> got;
        if (where.ns.empty()) {
          got = run_probes(mine, options);
        } else {
          ScopedNetns in(where.ns);
          got = run_probes(mine, options);
        }
        for (const auto& r : got) results[r.id] = r;
      } catch (const std::exception& e) {
        std::lock_guard lock(failure_mutex);
        failures[name] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  std::this_thread::sleep_for(settle);  // the listeners record a token a moment after the handshake
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto& entry = entries[i];
    auto& c = entry.cell;
    if (c.source_address.empty() && places.count(c.source)) c.source_address = places.at(c.source).address;
    const auto failed = failures.find(c.source);
    if (failed != failures.end()) {
      c.observed = Verdict::inconclusive;
      c.evidence = "source " + c.source + " could not probe: " + failed->second;
      continue;
    }
    Evidence e;
    e.result = results[i];
    e.proto = c.proto;
    e.destination = c.destination;
    e.destination_up = view.destination_up(entry);
    e.token_seen = view.token_seen(entry, probes[i].token, results[i]);
    e.listening = view.listening(entry);
    e.seen_on_tap = view.seen_on_tap(entry, results[i]);
    e.reset_on_tap = view.reset_on_tap(entry, results[i]);
    std::tie(c.observed, c.evidence) = decide(e);
  }
  return {sent, seconds};
}

}  // namespace netpol::live
