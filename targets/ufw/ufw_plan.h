#pragma once
// Which ufw rules each VM gets, from the IR's resolved flows (allow-only, so the
// rules are order-independent). Every VM: deny incoming, outgoing and routed, then
//   in:    flows whose destination covers the VM -> from each source network to the VM's address
//   out:   flows whose source covers the VM      -> from the VM's address to each destination network
//   route: only on a VPN server, for the tunnel's traffic (see docs/targets/ufw.md)
#include <string>
#include <vector>

#include "diagnostics.h"
#include "ir.h"
#include "ufw_rule.h"

namespace netpol::ufw {

// The tunnel interface of the VPN server (OpenVPN `dev tun0`): the one place it is named.
inline constexpr const char* kVpnInterface = "tun0";

// ufw accepts at most 15 port numbers per rule (a range counts 2).
inline constexpr int kMaxPortNumbers = 15;

struct HostRules {
  int host = -1;
  std::vector<Rule> v4;  // user.rules
  std::vector<Rule> v6;  // user6.rules
};

// One entry per VM (hosts with a vmid), in host order. Adds an error or warning to
// `diags` for every construct ufw cannot express exactly.
std::vector<HostRules> plan_ufw(const ir::Policy& policy, Diagnostics& diags);

// "22", "80,443", "1:65535" pieces of at most kMaxPortNumbers numbers, ranges sorted and merged.
std::vector<std::string> port_lists(std::vector<ir::PortRange> ranges);

}  // namespace netpol::ufw
