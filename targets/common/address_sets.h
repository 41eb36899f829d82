#pragma once
// The addresses a flow end stands for, as the targets need them.
// A zone endpoint is its networks minus its nested zones' networks (and minus
// excepted hosts); the catch-all zone is everything minus every other zone.
#include <vector>

#include "ip.h"
#include "ir.h"

namespace netpol {

struct AddressSet {
  std::vector<Cidr> include;  // canonical, sorted
  std::vector<Cidr> exclude;  // canonical, sorted; each inside some `include` entry
};

// The set as networks with exclusions (what a Proxmox ipset with '!' entries says).
AddressSet address_set(const ir::Policy& policy, const ir::FlowEnd& end);

// The same set as disjoint networks, no exclusions (what UFW, nginx or OpenVPN can say).
// A /0 is split into two /1 halves (Proxmox refuses /0).
std::vector<Cidr> disjoint_cidrs(const AddressSet& set);

// a minus b, as a sorted list of disjoint canonical networks.
std::vector<Cidr> subtract(const std::vector<Cidr>& a, const std::vector<Cidr>& b);

}  // namespace netpol
