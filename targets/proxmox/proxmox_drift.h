#pragma once
// Drift for the Proxmox target: what the policy implies at each enforcement point,
// and what a deployed directory of .fw files enforces, in the form compare() takes.
//   points:     "proxmox/<vmid>.fw" (the VM's NIC, in and out), "proxmox/host.fw" (the node, in)
//   not read:   the node's outbound (cluster policy_out ACCEPT by design), FORWARD rules
//               (ignored by the iptables daemon), the implicit allowances of pve-firewall
//               (DHCP, NDP, IGMP, corosync, ICMP errors of PVEFW-Drop)
#include <map>
#include <string>
#include <vector>

#include "drift.h"
#include "ir.h"

namespace netpol {

// Computed from the IR's flows and the zone model, not from the emitter's output.
std::vector<EnforcedRule> proxmox_expected(const ir::Policy& policy);

// Reads DIR/cluster.fw, DIR/host.fw (if present) and DIR/<vmid>.fw with the strict reader.
// Rules are applied as the daemon does: first match within a chain (GROUP rules in place,
// host.fw before cluster.fw [RULES]), so an ACCEPT is only what no earlier DROP or REJECT
// takes; a chain policy of ACCEPT allows the rest. A rule leaves its VM's own side out:
// that side is read as the VM's addresses, from the cluster aliases named after the group
// its file references (dc/<group>, dc/<group>-v4, dc/<group>-v6, as netpolc writes them),
// or as any address when there are none. Anything unreadable or not modelled is reported
// in `errors` ("proxmox/cluster.fw:12: ..."), erring towards showing more as allowed.
std::vector<EnforcedRule> proxmox_deployed(const std::string& dir, std::vector<std::string>& errors);

// The same from file contents by name ("cluster.fw" -> text).
std::vector<EnforcedRule> proxmox_deployed_files(const std::map<std::string, std::string>& files,
                                                 std::vector<std::string>& errors);

}  // namespace netpol
