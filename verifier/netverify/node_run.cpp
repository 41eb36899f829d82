#include "node_run.h"

#include <iostream>

#include "capture.h"
#include "cleanup.h"
#include "checked_policy.h"
#include "interrupt.h"
#include "matrix.h"
#include "netlink.h"
#include "netns.h"
#include "pipeline.h"
#include "probe_namespaces.h"
#include "probe_run.h"
#include "report_writer.h"

namespace netpol::live {

int run_node(const NodeOptions& o) {
  InterruptGuard guard;
  auto c = load_checked_policy(o.run.policy);
  if (!c) return 2;
  const ir::Policy& policy = c->policy;
  const Matrix matrix(policy);
  PlanOptions plan_options;
  plan_options.extra_ports = o.run.extra_ports;
  if (!o.from.empty()) {
    if (!policy.find_zone(o.from)) {
      std::cerr << "netverify: --from " << o.from << ": the policy has no such zone\n";
      return 2;
    }
    plan_options.from = {o.from};
  }
  Plan plan = make_plan(policy, matrix, plan_options);
  if (plan.entries.empty()) {
    std::cerr << "netverify: nothing to probe: no zone with a bridge (or --from) and no VM or node\n";
    return 2;
  }

  auto nl = make_libnl_netlink();
  std::vector<std::string> made;
  std::unique_ptr<Capture> capture;
  int rc = 2;
  try {
    std::map<std::string, SourcePlace> places;
    int index = 0;
    for (const auto& s : plan.sources) {
      if (!o.from.empty()) {
        places[s.name] = {"", "", ""};
        continue;
      }
      const auto g = o.gateway.find(s.name);
      const auto p = attach_zone_probe(*nl, "", s, index++, g == o.gateway.end() ? "" : g->second);
      made.push_back(p.ns);
      places[s.name] = {p.ns, "", s.address};
      throw_if_interrupted();
    }
    // The VMs' tap interfaces: a probe seen there has passed the node's firewall.
    std::vector<std::string> taps;
    std::map<std::string, std::string> tap_of;
    for (const auto& d : plan.destinations)
      if (d.vmid) {
        const std::string tap = "tap" + std::to_string(*d.vmid) + "i0";
        tap_of[d.name] = tap;
        if (nl->link_is_up("", tap)) taps.push_back(tap);
      }
    if (!taps.empty()) capture = Capture::start(taps);
    DestinationView view;
    view.destination_up = [&](const Plan::Entry& e) {
      const auto& d = plan.destinations[e.destination];
      return !d.vmid || std::find(taps.begin(), taps.end(), tap_of[d.name]) != taps.end();
    };
    view.seen_on_tap = [&](const Plan::Entry& e, const ProbeResult& r) -> std::optional<bool> {
      if (!capture || !plan.destinations[e.destination].vmid || r.source_port == 0) return std::nullopt;
      return capture->seen({SeenPacket::Kind::probe, e.cell.proto, e.cell.source_address, r.source_port,
                            e.cell.destination_address, e.cell.port});
    };
    view.reset_on_tap = [&](const Plan::Entry& e, const ProbeResult& r) {
      return capture && e.cell.proto == L4::tcp && r.source_port != 0 &&
             capture->seen({SeenPacket::Kind::reset, L4::tcp, e.cell.destination_address, e.cell.port,
                            e.cell.source_address, r.source_port});
    };
    std::vector<Plan::Entry> entries = plan.entries;
    const auto counts = probe_entries(entries, places, o.run.prober, view, std::chrono::milliseconds(200));
    if (capture) capture->stop();
    std::vector<Cell> cells;
    for (const auto& e : entries) cells.push_back(e.cell);
    RunFacts facts;
    facts.policy = o.run.policy;
    facts.policy_sha256 = policy.policy_sha256;
    facts.mode = o.from.empty() ? "node" : "from " + o.from;
    facts.probes = counts.probes;
    facts.seconds = counts.seconds;
    rc = write_reports(cells, facts, o.run);
  } catch (const Interrupted& e) {
    std::cerr << "netverify: " << e.what() << "; cleaning up\n";
    rc = 128 + e.signal;
  } catch (const std::exception& e) {
    std::cerr << "netverify: error: " << e.what() << '\n';
    rc = 2;
  }
  if (capture) capture->stop();
  for (auto it = made.rbegin(); it != made.rend(); ++it) netns_delete(*it);
  return rc;
}

int run_cleanup() {
  auto nl = make_libnl_netlink();
  const auto r = cleanup_leftovers(*nl, kNamePrefix);
  for (const auto& n : r.namespaces) std::cout << "removed namespace " << n << '\n';
  for (const auto& l : r.links) std::cout << "removed link " << l << '\n';
  for (int pid : r.pids) std::cout << "stopped process " << pid << '\n';
  if (r.namespaces.empty() && r.links.empty() && r.pids.empty()) std::cout << "nothing to clean up\n";
  return 0;
}

}  // namespace netpol::live
