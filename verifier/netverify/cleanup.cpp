// Cleanup of leftovers: processes first (a namespace with a live process in it outlives its name),
// then the namespaces (which takes their links along), then prefixed links in the initial namespace.
#include "cleanup.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace netpol::live {
namespace {

using namespace std::chrono_literals;
constexpr auto kTermGrace = 2s;  // how long SIGTERM gets before SIGKILL
constexpr auto kKillGrace = 2s;  // how long SIGKILL gets before we give up waiting
constexpr auto kPoll = 20ms;

bool starts_with(const std::string& name, const std::string& prefix) { return name.rfind(prefix, 0) == 0; }

std::vector<std::string> namespaces_with(const std::string& prefix) {
  std::vector<std::string> names;
  for (const std::string& name : netns_list())
    if (starts_with(name, prefix)) names.push_back(name);
  return names;
}

std::vector<int> pids_in(const std::vector<std::string>& namespaces) {
  std::vector<int> pids;
  for (const std::string& ns : namespaces)
    for (int pid : netns_pids(ns)) pids.push_back(pid);
  return pids;
}

// Signals what still lives in the namespaces and waits, bounded, until nothing does.
// Returns the processes that were signalled.
std::vector<int> signal_and_wait(const std::vector<std::string>& namespaces, int signal,
                                 std::chrono::milliseconds grace) {
  const std::vector<int> pids = pids_in(namespaces);
  for (int pid : pids) ::kill(pid, signal);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!pids_in(namespaces).empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(kPoll);
  return pids;
}

void check_prefix(const std::string& prefix) {
  if (prefix.empty()) throw ToolError("cleanup needs a name prefix (an empty one would match everything)");
}

}  // namespace

CleanupReport cleanup_leftovers(Netlink& netlink, const std::string& prefix) {
  check_prefix(prefix);
  CleanupReport report;
  report.namespaces = namespaces_with(prefix);
  report.pids = signal_and_wait(report.namespaces, SIGTERM, kTermGrace);
  for (int pid : signal_and_wait(report.namespaces, SIGKILL, kKillGrace))
    if (std::find(report.pids.begin(), report.pids.end(), pid) == report.pids.end()) report.pids.push_back(pid);
  std::sort(report.pids.begin(), report.pids.end());
  for (const std::string& ns : report.namespaces) netns_delete(ns);
  for (const std::string& link : netlink.link_names("")) {
    if (!starts_with(link, prefix)) continue;
    // Deleting a namespace removes its veth ends, and their peers here, a moment later.
    if (!netlink.link_exists("", link)) continue;
    netlink.delete_link("", link);
    report.links.push_back(link);
  }
  return report;
}

std::vector<std::string> leftovers(Netlink& netlink, const std::string& prefix) {
  check_prefix(prefix);
  std::vector<std::string> found;
  for (const std::string& ns : namespaces_with(prefix)) found.push_back("netns " + ns);
  for (const std::string& link : netlink.link_names(""))
    if (starts_with(link, prefix)) found.push_back("link " + link);
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace netpol::live
