#include "proxmox_sets.h"

#include <algorithm>

namespace netpol::proxmox {

namespace {

using Kind = ir::Endpoint::Kind;

const ir::Zone& zone_of(const ir::Policy& p, const ir::FlowEnd& end) {
  return p.zones[static_cast<std::size_t>(end.endpoint.id)];
}

// Every network a zone flow end leaves out: nested zones (every other zone for the
// catch-all) and the excepted hosts' addresses.
std::vector<Cidr> left_out(const ir::Policy& p, const ir::FlowEnd& end) {
  const auto& zone = zone_of(p, end);
  std::vector<Cidr> out;
  for (std::size_t z = 0; z < p.zones.size(); ++z) {
    const auto& other = p.zones[z];
    bool nested = std::find(zone.children.begin(), zone.children.end(), static_cast<int>(z)) != zone.children.end();
    bool carved = zone.catch_all ? (static_cast<int>(z) != end.endpoint.id && !other.catch_all) : nested;
    if (carved) out.insert(out.end(), other.networks.begin(), other.networks.end());
  }
  for (int h : end.except_hosts) {
    const auto& addresses = p.hosts[static_cast<std::size_t>(h)].addresses;
    out.insert(out.end(), addresses.begin(), addresses.end());
  }
  return out;
}

// A /0 as its two /1 halves: Proxmox refuses /0 in an ipset.
std::vector<Cidr> without_zero_prefix(const std::vector<Cidr>& networks) {
  std::vector<Cidr> out;
  for (const auto& n : networks) {
    if (n.prefix != 0) {
      out.push_back(n);
      continue;
    }
    Cidr low = n, high = n;
    low.prefix = high.prefix = 1;
    high.bytes[0] = 0x80;
    out.push_back(low);
    out.push_back(high);
  }
  return out;
}

}  // namespace

AddressSet ipset_entries(const ir::Policy& policy, const ir::FlowEnd& end) {
  auto set = address_set(policy, end);
  if (end.endpoint.kind == Kind::host) return set;
  auto holes = left_out(policy, end);
  std::erase_if(set.include, [&](const Cidr& c) {
    return std::any_of(holes.begin(), holes.end(), [&](const Cidr& h) { return h.contains(c); });
  });
  std::erase_if(set.exclude, [&](const Cidr& x) {
    return std::none_of(set.include.begin(), set.include.end(), [&](const Cidr& c) { return c.contains(x); });
  });
  return set;
}

std::vector<Cidr> exact_networks(const ir::Policy& policy, const ir::FlowEnd& end) {
  if (end.endpoint.kind == Kind::host) return policy.hosts[static_cast<std::size_t>(end.endpoint.id)].addresses;
  return subtract(without_zero_prefix(zone_of(policy, end).networks), left_out(policy, end));
}

std::set<Family> families(const std::vector<Cidr>& networks) {
  std::set<Family> out;
  for (const auto& n : networks) out.insert(n.family);
  return out;
}

bool covers(const ir::Policy& policy, const ir::FlowEnd& end, int host) {
  if (end.endpoint.kind == Kind::host) return end.endpoint.id == host;
  if (policy.hosts[static_cast<std::size_t>(host)].zone != end.endpoint.id) return false;
  return std::find(end.except_hosts.begin(), end.except_hosts.end(), host) == end.except_hosts.end();
}

bool is_host(const ir::FlowEnd& end, int host) {
  return end.endpoint.kind == Kind::host && end.endpoint.id == host;
}

}  // namespace netpol::proxmox
