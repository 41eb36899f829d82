#pragma once
// The Proxmox VE firewall of the lab's node, rendered as nftables (docs/lab-proxmox-nft.md).
// The input is the compiled files themselves (cluster.fw, host.fw, <vmid>.fw), read with the
// strict reader of targets/proxmox, never the IR: the lab must prove what was compiled.
//
// The caller loads `script` with `nft -f -` inside the node's namespace, after setting there
// net.bridge.bridge-nf-call-iptables=1 and net.bridge.bridge-nf-call-ip6tables=1 (so that the
// inet hooks see bridged traffic) and, to route between bridges, net.ipv4.ip_forward=1.
// The script replaces the tables `inet netpol_pve` and `bridge netpol_pve` and nothing else.
#include <map>
#include <string>
#include <vector>

namespace netpol::live {

// A guest NIC: the node-side end of the VM's link, enslaved to its bridge.
struct PveGuestPort {
  int vmid = 0;
  std::string tap;  // "tap100i0" (or "veth100i0" for a container): NIC net0 of guest 100
};

struct PveNftInput {
  std::string cluster_fw, host_fw;          // file contents; host_fw may be empty (no host rules)
  std::map<int, std::string> guest_fw;      // vmid -> contents of <vmid>.fw
  std::vector<PveGuestPort> ports;
  std::vector<std::string> node_bridges;    // "vmbr0", "vmbr1": the bridges the guest ports are on
  std::string local_network;                // the node's subnet, "198.18.1.0/24"; the cluster alias
                                            // local_network wins, as in pve-firewall
};

struct PveNftResult {
  std::string script;               // for `nft -f -`; empty when there are errors
  std::vector<std::string> errors;  // "file:line: message" (reader) or what the rendering refused
  bool ok() const { return errors.empty(); }
};

PveNftResult render_pve_nft(const PveNftInput& input);

}  // namespace netpol::live
