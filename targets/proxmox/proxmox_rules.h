#pragma once
// The rule lines of each enforcement point, computed from the IR's flows.
//   a VM:       [group <host>] in cluster.fw, IN rules for flows whose destination
//               covers it, OUT rules for flows whose source covers it;
//   the node:   host.fw, IN rules for flows whose destination covers it.
// The other side of a rule is an ipset (`+dc/<zone>`, `+dc/<zone>-rest`) or a host's
// alias (`dc/<host>-v4`). A VM's own side is left out: its NIC chain already is that VM.
// It is written (as the VM's alias) only to keep a rule to the VM's own families: a rule
// of ipsets alone compiles for IPv4 and IPv6, so a dual-stack zone's rule to an
// IPv4-only VM names the VM's alias. The node's own side is always written: the node
// has addresses on several networks, and the policy opens only the ones it names.
// A flow between a host and itself needs no rule there: it never crosses the NIC.
#include <set>
#include <string>
#include <vector>

#include "diagnostics.h"
#include "ir.h"
#include "proxmox_names.h"

namespace netpol::proxmox {

// One line of a [RULES] or [group] section, printed in the writer's option order.
struct RuleLine {
  std::string type;    // IN, OUT, GROUP
  std::string action;  // ACCEPT, DROP, or a group name
  std::string source, dest, proto, dport, icmp_type;
  std::string comment;
  std::string str() const;
};

// Shared by every point: the names, and the errors already reported (one per rule and cause).
struct RuleContext {
  const ir::Policy& policy;
  ProxmoxNames& names;
  Diagnostics& diags;
  std::set<std::string> reported;
};

std::vector<RuleLine> vm_group_rules(RuleContext& ctx, int vm);
// The node's flows, then DROP for the management ports Proxmox opens implicitly.
std::vector<RuleLine> node_rules(RuleContext& ctx, int node);

}  // namespace netpol::proxmox
