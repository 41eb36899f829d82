// Zones, addresses and hosts: nesting, overlaps, who owns an address.
#include <algorithm>

#include "diagnostic_codes.h"
#include "resolver.h"

namespace netpol::resolver {

void Resolver::resolve_parent(const ast::ZoneDecl& z) {
  if (!z.parent) return;
  auto self = symbols_.find(z.name.text);
  if (self == symbols_.end() || self->second.span.begin != z.name.span.begin ||
      self->second.span.file != z.name.span.file)
    return;  // a duplicate; reported already
  if (auto parent = zone(*z.parent)) {
    out_.zones[static_cast<std::size_t>(self->second.index)].parent = *parent;
  } else {
    broken_zones_.insert(self->second.index);  // its overlaps would only repeat the error
  }
}

void Resolver::check_zone_cycles() {
  for (std::size_t i = 0; i < out_.zones.size(); ++i) {
    std::set<int> seen{static_cast<int>(i)};
    auto p = out_.zones[i].parent;
    while (p) {
      if (!seen.insert(*p).second) {
        diags_.error(code::kZoneCycle, zone_decls_[i]->parent->span,
                     "zone '" + out_.zones[i].name + "' is nested inside itself");
        out_.zones[i].parent.reset();
        break;
      }
      p = out_.zones[static_cast<std::size_t>(*p)].parent;
    }
  }
  for (std::size_t i = 0; i < out_.zones.size(); ++i)
    if (auto p = out_.zones[i].parent) out_.zones[static_cast<std::size_t>(*p)].children.push_back(static_cast<int>(i));
  // A zone without a bridge of its own sits on its parent's.
  for (auto& z : out_.zones) {
    for (auto p = z.parent; z.bridge.empty() && p; p = out_.zones[static_cast<std::size_t>(*p)].parent)
      z.bridge = out_.zones[static_cast<std::size_t>(*p)].bridge;
  }
}

void Resolver::assign_addresses(const ast::AddressDecl& a) {
  auto* s = lookup(a.target, {Kind::zone, Kind::host}, "zone or host");
  if (!s) return;
  auto& spans = s->kind == Kind::zone ? zone_addresses_[s->index] : host_addresses_[s->index];
  if (spans.statement.valid()) {
    auto& d = diags_.error(code::kAddressTwice, a.target.span, "addresses for '" + a.target.text + "' are already given");
    d.notes.push_back({spans.statement, "first given here"});
    d.hints.push_back("list every address in one statement: address " + a.target.text + " A, B");
    return;
  }
  spans.statement = a.span;
  for (const auto& text : a.addresses) {
    auto parsed = parse_cidr(text.text);
    if (!parsed.cidr) {
      if (s->kind == Kind::zone) broken_zones_.insert(s->index);
      auto& d = diags_.error(parsed.canonical ? code::kNonCanonical : code::kBadAddress, text.span, parsed.error);
      if (parsed.canonical)
        d.hints.push_back(s->kind == Kind::zone ? "the network is " + parsed.canonical->str()
                                                : "a host address is written without a prefix");
      continue;
    }
    if (s->kind == Kind::zone) {
      out_.zones[static_cast<std::size_t>(s->index)].networks.push_back(*parsed.cidr);
    } else {
      if (!parsed.cidr->is_host()) {
        diags_.error(code::kHostPrefix, text.span,
                     "host '" + a.target.text + "' needs single addresses, not the network " + parsed.cidr->str());
        continue;
      }
      out_.hosts[static_cast<std::size_t>(s->index)].addresses.push_back(*parsed.cidr);
    }
    spans.spans.push_back(text.span);
  }
}

bool Resolver::is_ancestor(int ancestor, int zone) const {
  for (auto p = out_.zones[static_cast<std::size_t>(zone)].parent; p; p = out_.zones[static_cast<std::size_t>(*p)].parent)
    if (*p == ancestor) return true;
  return false;
}

void Resolver::check_zones() {
  auto& zones = out_.zones;
  for (std::size_t i = 0; i < zones.size(); ++i) {
    auto& z = zones[i];
    if (z.networks.empty() && !zone_addresses_[static_cast<int>(i)].statement.valid()) {
      broken_zones_.insert(static_cast<int>(i));
      auto& d = diags_.error(code::kMissingAddress, zone_decls_[i]->name.span, "zone '" + z.name + "' has no network");
      d.hints.push_back("add: address " + z.name + " 198.18.1.0/24 (its networks, IPv4 and IPv6)");
    }
    z.catch_all = std::any_of(z.networks.begin(), z.networks.end(), [](const Cidr& c) { return c.prefix == 0; });
  }
  // A nested zone lies inside its parent.
  for (std::size_t i = 0; i < zones.size(); ++i) {
    if (!zones[i].parent || broken_zones_.count(*zones[i].parent)) continue;
    const auto& parent = zones[static_cast<std::size_t>(*zones[i].parent)];
    for (std::size_t k = 0; k < zones[i].networks.size(); ++k) {
      const auto& net = zones[i].networks[k];
      bool inside = std::any_of(parent.networks.begin(), parent.networks.end(),
                                [&](const Cidr& p) { return p.contains(net); });
      if (!inside) {
        auto& d = diags_.error(code::kNotNested, zone_addresses_[static_cast<int>(i)].spans[k],
                               "zone '" + zones[i].name + "' is nested in '" + parent.name + "', but " + net.str() +
                                   " is outside it");
        note(d, zone_addresses_[*zones[i].parent].statement, "'" + parent.name + "' is given here");
      }
    }
  }
  // Unrelated zones never share addresses; a catch-all (/0) zone is everything else.
  for (std::size_t i = 0; i < zones.size(); ++i) {
    for (std::size_t j = i + 1; j < zones.size(); ++j) {
      bool related = is_ancestor(static_cast<int>(i), static_cast<int>(j)) || is_ancestor(static_cast<int>(j), static_cast<int>(i));
      if (related || broken_zones_.count(static_cast<int>(i)) || broken_zones_.count(static_cast<int>(j))) continue;
      for (std::size_t a = 0; a < zones[i].networks.size(); ++a) {
        for (std::size_t b = 0; b < zones[j].networks.size(); ++b) {
          const auto& na = zones[i].networks[a];
          const auto& nb = zones[j].networks[b];
          bool both_catch_all = na.prefix == 0 && nb.prefix == 0;
          if (!na.overlaps(nb) || ((na.prefix == 0 || nb.prefix == 0) && !both_catch_all)) continue;
          auto& d = diags_.error(code::kZoneOverlap, zone_addresses_[static_cast<int>(j)].spans[b],
                                 "zone '" + zones[j].name + "' (" + nb.str() + ") overlaps zone '" + zones[i].name +
                                     "' (" + na.str() + ")");
          d.notes.push_back({zone_addresses_[static_cast<int>(i)].spans[a], "'" + zones[i].name + "' is given here"});
          if (both_catch_all)
            d.hints.push_back("only one zone can hold every address of a family (a /0)");
          else
            d.hints.push_back("if one zone is meant to sit inside the other, say so: zone " + zones[j].name + " in " +
                              zones[i].name);
        }
      }
    }
  }
}

std::optional<int> Resolver::owner(const Cidr& address) const {
  std::optional<int> best;
  int best_prefix = -1;
  for (std::size_t i = 0; i < out_.zones.size(); ++i)
    for (const auto& n : out_.zones[i].networks)
      if (n.contains(address) && n.prefix > best_prefix) {
        best = static_cast<int>(i);
        best_prefix = n.prefix;
      }
  return best;
}

void Resolver::check_hosts() {
  std::map<Cidr, int> address_owner;
  std::map<int, int> vmid_owner;
  for (std::size_t i = 0; i < out_.hosts.size(); ++i) {
    auto& h = out_.hosts[i];
    const auto& decl = *host_decls_[i];
    if (auto z = zone(decl.zone)) {
      h.zone = *z;
      h.bridge = out_.zones[static_cast<std::size_t>(*z)].bridge;
    }
    const auto& spans = host_addresses_[static_cast<int>(i)];
    if (h.addresses.empty() && !spans.statement.valid()) {
      auto& d = diags_.error(code::kMissingAddress, decl.name.span, "host '" + h.name + "' has no address");
      d.hints.push_back("add: address " + h.name + " 198.18.1.10");
    }
    for (std::size_t k = 0; k < h.addresses.size(); ++k) {
      const auto& a = h.addresses[k];
      if (h.zone >= 0 && !broken_zones_.count(h.zone)) {
        auto belongs = owner(a);
        const auto& z = out_.zones[static_cast<std::size_t>(h.zone)];
        if (!belongs) {
          auto& d = diags_.error(code::kOutsideZone, spans.spans[k],
                                 "address " + a.str(true) + " of host '" + h.name + "' is outside zone '" + z.name + "'");
          note(d, zone_addresses_[h.zone].statement, "zone '" + z.name + "' is given here");
        } else if (*belongs != h.zone) {
          const auto& other = out_.zones[static_cast<std::size_t>(*belongs)];
          auto& d = diags_.error(code::kOutsideZone, spans.spans[k],
                                 "address " + a.str(true) + " of host '" + h.name + "' belongs to zone '" +
                                     other.name + "', not to '" + z.name + "'");
          note(d, zone_addresses_[*belongs].statement, "zone '" + other.name + "' is given here");
        }
      }
      auto [it, inserted] = address_owner.emplace(a, static_cast<int>(i));
      if (!inserted) {
        auto& d = diags_.error(code::kSharedAddress, spans.spans[k],
                               "address " + a.str(true) + " is already the address of host '" +
                                   out_.hosts[static_cast<std::size_t>(it->second)].name + "'");
        d.notes.push_back({host_addresses_[it->second].statement, "given here"});
      }
    }
    if (h.vmid) {
      auto [it, inserted] = vmid_owner.emplace(*h.vmid, static_cast<int>(i));
      if (!inserted) {
        auto& d = diags_.error(code::kDuplicateVmid, decl.vmid_span,
                               "VM id " + std::to_string(*h.vmid) + " is already used by host '" +
                                   out_.hosts[static_cast<std::size_t>(it->second)].name + "'");
        d.notes.push_back({host_decls_[static_cast<std::size_t>(it->second)]->vmid_span, "used here"});
      }
      if (h.zone >= 0 && h.bridge.empty()) {
        auto& d = diags_.error(code::kNoBridge, decl.span,
                               "VM '" + h.name + "' sits in zone '" + out_.zones[static_cast<std::size_t>(h.zone)].name +
                                   "', which has no bridge");
        d.hints.push_back("give the zone (or a zone it is nested in) its Proxmox bridge: bridge vmbr0");
      }
    }
  }
}

}  // namespace netpol::resolver
