#pragma once
// The lab's namespaces and links, built from the plan: a node namespace holding the bridges, one
// namespace per VM on its bridge (its node-side port named tap<vmid>i0, as on Proxmox), the zones'
// probe namespaces, a router joining the bridges and an internet uplink, and the VPN client's outer
// namespace on the internet side.
#include <map>
#include <string>
#include <vector>

#include "ir.h"
#include "netlink.h"
#include "plan.h"

namespace netpol::live::lab {

struct LabTopology {
  std::string node_ns;                          // nv-lab-pve
  std::string router_ns;                        // nv-lab-gw
  std::map<std::string, std::string> ns_of;     // end name (host, zone) -> its namespace
  std::map<std::string, std::string> gateway;   // bridge -> the router's address on it
  std::vector<std::string> bridges;
  std::vector<std::string> namespaces;          // every namespace made, in order
  std::string internet_subnet;                  // "198.19.0.0/24"
  std::string vpn_client_ns, vpn_client_address;  // outer side of the VPN client
  std::map<int, std::string> tap_of;            // vmid -> tap<vmid>i0
};

// Where everything goes, without creating anything.
LabTopology lay_out(const ir::Policy& policy, const Plan& plan);

// Creates it (namespaces, links, addresses, routes, sysctls). Records each namespace in
// topology.namespaces as soon as it exists, so a failure half-way can still be torn down.
void build(LabTopology& topology, const ir::Policy& policy, const Plan& plan, Netlink& nl);

// Writes /proc/sys/net/... inside namespace ns.
void set_sysctl(const std::string& ns, const std::string& key, const std::string& value);

}  // namespace netpol::live::lab
