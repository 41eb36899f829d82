#pragma once
// What a crashed netverify run leaves behind: namespaces named with the prefix (and processes still
// living in them), and the root-side ends of veth pairs named with the prefix. `netverify cleanup`
// and the run's own exit path remove them; tests check that nothing is left.
#include <string>
#include <vector>

#include "netlink.h"
#include "netns.h"

namespace netpol::live {

struct CleanupReport {
  std::vector<std::string> namespaces, links;  // what was deleted
  std::vector<int> pids;                       // processes that were signalled
};

// Stops the processes in namespaces named `prefix*` (SIGTERM, a bounded wait, then SIGKILL),
// deletes those namespaces, then deletes links named `prefix*` in the initial namespace.
// Throws ToolError for an empty prefix: that would mean everything.
CleanupReport cleanup_leftovers(Netlink& netlink, const std::string& prefix = kNamePrefix);

// What exists now: "netns NAME" and "link NAME" lines, sorted; empty means nothing is left.
std::vector<std::string> leftovers(Netlink& netlink, const std::string& prefix = kNamePrefix);

}  // namespace netpol::live
