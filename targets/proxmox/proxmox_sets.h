#pragma once
// The addresses of a flow end, in the two forms the Proxmox target needs.
#include <set>
#include <vector>

#include "address_sets.h"
#include "ip.h"
#include "ir.h"

namespace netpol::proxmox {

// What an [IPSET] holds for a flow end: networks and '!' (nomatch) exclusions.
// address_set() keeps an include entry when an exclusion equals it (a nested zone
// with its parent's very network, a zone of one address held by its host); such an
// entry is wholly excluded, so it is dropped here rather than widened.
AddressSet ipset_entries(const ir::Policy& policy, const ir::FlowEnd& end);

// The same addresses as disjoint networks, computed straight from the zone model
// (the zone's networks minus what its nested zones, or every other zone for the
// catch-all, and the excepted hosts hold). Drift's expected side uses this, not
// the ipset, so the two are checked against each other.
std::vector<Cidr> exact_networks(const ir::Policy& policy, const ir::FlowEnd& end);

std::set<Family> families(const std::vector<Cidr>& networks);

// Whether the flow end stands for the host (the host itself, or its zone without it excepted).
bool covers(const ir::Policy& policy, const ir::FlowEnd& end, int host);

// Whether the flow end is the host itself. A host's traffic to itself never crosses
// its NIC, so a flow between a host and itself needs no rule at that host.
bool is_host(const ir::FlowEnd& end, int host);

}  // namespace netpol::proxmox
