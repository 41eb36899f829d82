#pragma once
// Drift: what is deployed against what the policy compiles to, compared as flows
// (who may reach what, where it is enforced), never as text lines. Each target
// gives two functions: the rules the IR implies (computed from ir::Policy, not
// from its own emitter) and a reader that parses deployed files into the same form.
#include <set>
#include <tuple>
#include <string>
#include <vector>

#include "ip.h"
#include "ir.h"

namespace netpol {

struct EnforcedRule {
  std::string point;      // where it is enforced: "proxmox/100.fw", "proxmox/host.fw", "ufw/vm-intranet"
  std::string direction;  // "in", "out" or "route"
  Cidr source;            // one network; a target's "any" is 0.0.0.0/0 or ::/0
  Cidr destination;
  ir::Proto proto = ir::Proto::tcp;
  ir::PortRange ports;    // tcp/udp ports, or icmp types 0-255
  std::string origin;     // for people: the policy rule or the deployed line it comes from
  auto operator<=>(const EnforcedRule& o) const {
    return std::tie(point, direction, source, destination, proto, ports) <=>
           std::tie(o.point, o.direction, o.source, o.destination, o.proto, o.ports);
  }
  bool operator==(const EnforcedRule& o) const { return (*this <=> o) == 0; }
  std::string str() const;  // "ufw/vm-intranet in 198.18.1.0/24 -> 198.18.1.20/32 tcp/22"
};

struct Drift {
  std::vector<EnforcedRule> missing;                             // the policy allows it; nothing deployed does
  std::vector<EnforcedRule> extra;                               // deployed allows it; the policy does not
  std::vector<std::pair<EnforcedRule, EnforcedRule>> changed;    // same who/where, other ports (expected, deployed)
  bool empty() const { return missing.empty() && extra.empty() && changed.empty(); }
};

// Compares the two as sets of allowed packets: rules may be split or merged
// differently on each side and still be equal.
Drift compare(const std::vector<EnforcedRule>& expected, const std::vector<EnforcedRule>& deployed);

std::string drift_text(const Drift& drift);

}  // namespace netpol
