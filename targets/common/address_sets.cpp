#include "address_sets.h"

#include <algorithm>

namespace netpol {

namespace {

// The two halves of a network one bit longer.
std::pair<Cidr, Cidr> halves(const Cidr& c) {
  Cidr low = c, high = c;
  low.prefix = high.prefix = c.prefix + 1;
  high.bytes[static_cast<std::size_t>(c.prefix / 8)] |= static_cast<std::uint8_t>(0x80 >> (c.prefix % 8));
  return {low, high};
}

void subtract_one(const Cidr& from, const Cidr& hole, std::vector<Cidr>& out) {
  if (!from.overlaps(hole)) {
    out.push_back(from);
    return;
  }
  if (hole.contains(from)) return;
  auto [low, high] = halves(from);  // `from` strictly contains `hole`
  subtract_one(low, hole, out);
  subtract_one(high, hole, out);
}

void add_unique(std::vector<Cidr>& list, const Cidr& c) {
  if (std::find(list.begin(), list.end(), c) == list.end()) list.push_back(c);
}

}  // namespace

std::vector<Cidr> subtract(const std::vector<Cidr>& a, const std::vector<Cidr>& b) {
  std::vector<Cidr> current = a;
  for (const auto& hole : b) {
    std::vector<Cidr> next;
    for (const auto& c : current) subtract_one(c, hole, next);
    current = std::move(next);
  }
  std::sort(current.begin(), current.end());
  return current;
}

AddressSet address_set(const ir::Policy& p, const ir::FlowEnd& end) {
  AddressSet set;
  if (end.endpoint.kind == ir::Endpoint::Kind::host) {
    set.include = p.hosts[static_cast<std::size_t>(end.endpoint.id)].addresses;
    return set;
  }
  const auto& zone = p.zones[static_cast<std::size_t>(end.endpoint.id)];
  for (const auto& net : zone.networks) {
    if (net.prefix == 0) {  // the catch-all: split so no target ever sees a /0
      auto [low, high] = halves(net);
      set.include.push_back(low);
      set.include.push_back(high);
    } else {
      set.include.push_back(net);
    }
  }
  auto excluded_by_zone = [&](std::size_t other) {
    if (zone.catch_all) return static_cast<int>(other) != end.endpoint.id;
    return std::find(zone.children.begin(), zone.children.end(), static_cast<int>(other)) != zone.children.end();
  };
  for (std::size_t z = 0; z < p.zones.size(); ++z) {
    if (!excluded_by_zone(z) || p.zones[z].catch_all) continue;
    for (const auto& net : p.zones[z].networks) add_unique(set.exclude, net);
  }
  for (int h : end.except_hosts)
    for (const auto& a : p.hosts[static_cast<std::size_t>(h)].addresses) add_unique(set.exclude, a);
  // An exclusion that is a whole included network removes it (a nested zone on its
  // parent's exact network, a /32 zone held by its own host): never keep it as included.
  std::erase_if(set.include, [&](const Cidr& i) {
    return std::any_of(set.exclude.begin(), set.exclude.end(), [&](const Cidr& x) { return x.contains(i); });
  });
  // Keep only exclusions that fall inside what is left (another family's or an outer zone's are no-ops).
  std::erase_if(set.exclude, [&](const Cidr& x) {
    return std::none_of(set.include.begin(), set.include.end(), [&](const Cidr& i) { return i.contains(x) && i != x; });
  });
  // An exclusion inside another exclusion says nothing more.
  std::sort(set.exclude.begin(), set.exclude.end(), [](const Cidr& a, const Cidr& b) { return a.prefix < b.prefix || (a.prefix == b.prefix && a < b); });
  std::vector<Cidr> kept;
  for (const auto& x : set.exclude)
    if (std::none_of(kept.begin(), kept.end(), [&](const Cidr& k) { return k.contains(x); })) kept.push_back(x);
  set.exclude = std::move(kept);
  std::sort(set.include.begin(), set.include.end());
  std::sort(set.exclude.begin(), set.exclude.end());
  return set;
}

std::vector<Cidr> disjoint_cidrs(const AddressSet& set) { return subtract(set.include, set.exclude); }

}  // namespace netpol
