#pragma once
// A VM that runs Docker (`host X in Z { vmid N docker }`): Docker publishes container ports with a
// DNAT in PREROUTING, so the packets go through FORWARD, where Docker's own rules accept them
// before ufw's chains see them. netpol closes that hole with one block for /etc/ufw/after.rules
// (between kAfterRulesBegin/End, docs/targets/ufw.md "Docker hosts") that makes Docker's
// DOCKER-USER chain police Docker's traffic only, by conntrack:
//   - published ports (ctstate DNAT) -> netpol-docker-in: the policy's flows to the VM, matched on
//     the ORIGINAL destination (the VM's address and the published port), from each source network;
//   - containers' own traffic (in on docker0 / br-+) -> netpol-docker-out: to another container, or
//     the policy's flows from the VM, to each destination network;
//   - everything else (replies; forwarding that is not Docker's, e.g. a VPN server's tunnel) goes
//     back to FORWARD, where ufw decides as on a host without Docker.
// No exception for private source ranges: the policy decides. IPv4 only (Docker's default).
// Nothing goes into ufw-user-forward: a `route` rule there would see all forwarded traffic.
#include <string>
#include <vector>

#include "ir.h"

namespace netpol::ufw {

inline constexpr const char* kAfterRulesBegin = "# BEGIN netpol docker";
inline constexpr const char* kAfterRulesEnd = "# END netpol docker";
inline constexpr const char* kAfterRulesPath = "/etc/ufw/after.rules";
// Our chains (iptables allows 28 characters).
inline constexpr const char* kDockerInChain = "netpol-docker-in";
inline constexpr const char* kDockerOutChain = "netpol-docker-out";

// The block for /etc/ufw/after.rules of Docker host `vm` (a host index), markers included, ending
// with a newline. `header` lines become `# ` comments inside the block; each policy rule's lines
// follow a `# <rule comment>` line. Flows ufw cannot write either (icmp, bad ports or comment) are
// left out: the plan reports them (E712, W710).
std::string docker_after_rules(const ir::Policy& policy, int vm, const std::vector<std::string>& header);

// Shell text for the VM's .sh: puts `block` into /etc/ufw/after.rules in place of any earlier
// netpol block (atomic rename, nothing written when unchanged), and reloads ufw when it changed
// and ufw is active, so the new chains are live.
std::string docker_script_step(const std::string& block);

}  // namespace netpol::ufw
