#include "lint.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lint_codes.h"

namespace netpol {

namespace {

using ir::Endpoint;
using ir::PortRange;
namespace lc = lint::code;

struct Key {
  int source = 0;       // atom
  int destination = 0;  // atom
  ir::Proto proto = ir::Proto::tcp;
  auto operator<=>(const Key&) const = default;
};

// One (atom pair, protocol, port range) a rule names.
struct Cell {
  Key key;
  PortRange range;
};

using Ranges = std::vector<PortRange>;  // sorted, disjoint

bool overlaps(PortRange a, PortRange b) { return a.first <= b.last && b.first <= a.last; }
PortRange overlap(PortRange a, PortRange b) { return {std::max(a.first, b.first), std::min(a.last, b.last)}; }

// `ranges` without `cut`.
Ranges subtract(const Ranges& ranges, PortRange cut) {
  Ranges out;
  for (const auto& r : ranges) {
    if (!overlaps(r, cut)) {
      out.push_back(r);
      continue;
    }
    if (r.first < cut.first) out.push_back({r.first, static_cast<std::uint16_t>(cut.first - 1)});
    if (r.last > cut.last) out.push_back({static_cast<std::uint16_t>(cut.last + 1), r.last});
  }
  return out;
}

bool intersects(const Ranges& ranges, PortRange r) {
  return std::any_of(ranges.begin(), ranges.end(), [&](const PortRange& x) { return overlaps(x, r); });
}

constexpr unsigned kV4 = 1;
constexpr unsigned kV6 = 2;

std::string families_text(unsigned mask) {
  if (mask == (kV4 | kV6)) return "IPv4 and IPv6";
  return mask == kV4 ? "IPv4 only" : mask == kV6 ? "IPv6 only" : "no address";
}

class Linter {
 public:
  Linter(const ir::Policy& policy, Diagnostics& diags)
      : p_(policy), d_(diags), hosts_(static_cast<int>(policy.hosts.size())), zone_hosts_(policy.zones.size()) {
    for (int h = 0; h < hosts_; ++h) {
      const auto& host = p_.hosts[static_cast<std::size_t>(h)];
      if (host.zone >= 0) zone_hosts_[static_cast<std::size_t>(host.zone)].push_back(h);
      families_.push_back(mask(host.addresses));
    }
    for (const auto& z : p_.zones) families_.push_back(mask(z.networks));
    for (const auto& r : p_.rules) cells_.push_back(cells(r));
    // Every rule's cells by key, in rule order: a rule's later rules are found by key, not by
    // walking every cell of every later rule (which is quadratic in the policy's size).
    for (std::size_t r = 0; r < cells_.size(); ++r)
      for (const auto& c : cells_[r]) by_key_[c.key].push_back({static_cast<int>(r), c.range});
  }

  void run() {
    rules();
    unused();
  }

 private:
  static unsigned mask(const std::vector<Cidr>& nets) {
    unsigned m = 0;
    for (const auto& n : nets) m |= n.family == Family::v4 ? kV4 : kV6;
    return m;
  }

  // As in compiler/matrix.cpp: a host is one atom; a zone is its rest and each of its hosts.
  std::vector<int> atoms(const Endpoint& e) const {
    if (e.kind == Endpoint::Kind::host) return {e.id};
    std::vector<int> out{hosts_ + e.id};
    for (int h : zone_hosts_[static_cast<std::size_t>(e.id)]) out.push_back(h);
    return out;
  }

  // Whether a packet can go from atom a to atom b: a shared family, and not a host to itself.
  bool real(int a, int b) const {
    return (families_[static_cast<std::size_t>(a)] & families_[static_cast<std::size_t>(b)]) != 0 &&
           !(a == b && a < hosts_);
  }

  std::vector<Cell> cells(const ir::Rule& rule) const {
    std::vector<Cell> out;
    for (const auto& s : rule.sources)
      for (const auto& d : rule.destinations)
        for (const auto& svc : rule.services)
          for (int sa : atoms(s))
            for (int da : atoms(d))
              if (real(sa, da)) out.push_back({{sa, da, svc.port.proto}, svc.port.range});
    return out;
  }

  std::string atom_text(int atom) const {
    if (atom < hosts_) return p_.hosts[static_cast<std::size_t>(atom)].name;
    int zone = atom - hosts_;
    return p_.describe({{ir::Endpoint::Kind::zone, zone}, zone_hosts_[static_cast<std::size_t>(zone)]});
  }

  // "tcp/22 from lan (other than pve) to pve": one concrete packet, the first port.
  std::string packet_text(const Key& key, PortRange range) const {
    ir::ServicePort port{key.proto, {range.first, range.first}};
    return port.str() + " from " + atom_text(key.source) + " to " + atom_text(key.destination);
  }

  // How a finding names the rule: explicit rules by their action, generated ones by their block.
  std::string rule_name(int r) const {
    const auto& rule = p_.rules[static_cast<std::size_t>(r)];
    std::string action = rule.action == ir::Action::allow ? "allow" : "deny";
    if (rule.origin == ir::Origin::vpn)
      return "the flow vpn '" + p_.vpns[static_cast<std::size_t>(rule.origin_index)].name + "' opens to its listener";
    if (rule.origin == ir::Origin::publish) {
      const auto& pub = p_.publishes[static_cast<std::size_t>(rule.origin_index)];
      bool to_proxy = rule.destinations.size() == 1 && rule.destinations[0] == Endpoint{Endpoint::Kind::host, pub.proxy} &&
                      rule.services.size() == 1 && rule.services[0].port == pub.listen_port;
      return std::string("the flow published name '") + pub.domain + "' needs " +
             (to_proxy ? "from its clients to the proxy" : "from the proxy to the backend");
    }
    return "this " + action;
  }

  std::string rule_ref(int r) const {
    const auto& rule = p_.rules[static_cast<std::size_t>(r)];
    return "'" + rule.text + "'";
  }

  void rules() {
    std::map<Key, std::vector<Piece>> decided;  // first match, as the matrix: sorted, disjoint
    std::vector<std::vector<Cell>> fresh(p_.rules.size());
    for (std::size_t r = 0; r < p_.rules.size(); ++r) {
      const auto& rule = p_.rules[r];
      bool allow = rule.action == ir::Action::allow;
      std::map<int, Cell> earlier;  // rule -> the first packet of this rule it decides
      for (const auto& cell : cells_[r]) {
        auto& pieces = decided[cell.key];
        long cursor = cell.range.first;
        Ranges gaps;
        for (const auto& piece : pieces) {
          if (overlaps(piece.range, cell.range) && piece.rule != static_cast<int>(r))
            earlier.emplace(piece.rule, Cell{cell.key, overlap(piece.range, cell.range)});
          if (piece.range.last < cursor) continue;
          if (piece.range.first > cell.range.last) break;
          if (piece.range.first > cursor)
            gaps.push_back({static_cast<std::uint16_t>(cursor), static_cast<std::uint16_t>(piece.range.first - 1)});
          cursor = static_cast<long>(piece.range.last) + 1;
        }
        if (cursor <= cell.range.last) gaps.push_back({static_cast<std::uint16_t>(cursor), cell.range.last});
        for (const auto& g : gaps) {
          pieces.push_back({g, static_cast<int>(r), allow});
          fresh[r].push_back({cell.key, g});
        }
        std::sort(pieces.begin(), pieces.end(),
                  [](const Piece& a, const Piece& b) { return a.range.first < b.range.first; });
      }
      if (cells_[r].empty()) {
        matches_nothing(static_cast<int>(r));
      } else if (fresh[r].empty()) {
        shadowed(static_cast<int>(r), earlier);
      }
    }
    for (std::size_t r = 0; r < p_.rules.size(); ++r)
      if (p_.rules[r].origin == ir::Origin::rule && p_.rules[r].action == ir::Action::allow && !fresh[r].empty())
        redundant(static_cast<int>(r), fresh[r]);
  }

  struct Piece {
    PortRange range;
    int rule;
    bool allow;
  };

  void shadowed(int r, const std::map<int, Cell>& earlier) {
    const auto& rule = p_.rules[static_cast<std::size_t>(r)];
    bool allow = rule.action == ir::Action::allow;
    const Cell* against = nullptr;  // a packet an earlier rule decides the other way
    int against_rule = -1;
    for (const auto& [e, cell] : earlier) {
      if ((p_.rules[static_cast<std::size_t>(e)].action == ir::Action::allow) != allow) {
        against = &cell;
        against_rule = e;
        break;
      }
    }
    Diagnostic* diag = nullptr;
    if (against && !allow) {
      diag = &d_.error(lc::kDenyOverruled, rule.location.span,
                       "this deny never takes effect: earlier rules decide every packet it matches, and allow some: " +
                           packet_text(against->key, against->range) + " is allowed by " + rule_ref(against_rule));
      diag->hints.push_back("move the deny above the allow, or narrow the allow; a 'never' makes the intent a proven invariant");
    } else if (against) {
      diag = &d_.warning(lc::kAllowOverruled, rule.location.span,
                         rule_name(r) + " never takes effect: earlier rules decide every packet it matches, and deny some: " +
                             packet_text(against->key, against->range) + " is denied by " + rule_ref(against_rule));
      diag->hints.push_back("move it above the deny, or narrow the deny");
    } else if (rule.origin == ir::Origin::rule) {
      // vpn and publish flows already allowed by explicit rules are by design (docs/diagnostics.md, W800)
      diag = &d_.warning(lc::kShadowed, rule.location.span,
                         "this " + std::string(allow ? "allow" : "deny") +
                             " is shadowed: earlier rules decide every packet it matches, the same way");
      diag->hints.push_back("remove it, or move it above the rules that shadow it if it should decide first");
    } else {
      return;
    }
    for (const auto& [e, cell] : earlier) {
      const auto& other = p_.rules[static_cast<std::size_t>(e)];
      std::string how = other.action == ir::Action::allow ? "allowed first by " : "denied first by ";
      diag->notes.push_back({other.location.span, how + rule_ref(e) + " (for example " + packet_text(cell.key, cell.range) + ")"});
    }
  }

  void redundant(int r, const std::vector<Cell>& fresh) {
    std::map<Key, Ranges> remaining;  // the packets rule r decides, not yet decided by a later rule
    for (const auto& c : fresh) remaining[c.key].push_back(c.range);
    // Keys are independent: for each, the later rules that name it, in order, take their share.
    std::set<int> touched;
    for (auto& [key, ranges] : remaining) {
      const auto found = by_key_.find(key);
      if (found == by_key_.end()) return;
      const auto& entries = found->second;
      auto e = std::upper_bound(entries.begin(), entries.end(), r,
                                [](int rule, const KeyedRange& k) { return rule < k.rule; });
      for (; e != entries.end() && !ranges.empty(); ++e) {
        if (!intersects(ranges, e->range)) continue;
        if (p_.rules[static_cast<std::size_t>(e->rule)].action == ir::Action::deny)
          return;  // without rule r, this later deny would decide some of its packets
        touched.insert(e->rule);
        ranges = subtract(ranges, e->range);
      }
      if (!ranges.empty()) return;  // some packets would fall to the default deny
    }
    std::vector<int> later(touched.begin(), touched.end());
    const auto& rule = p_.rules[static_cast<std::size_t>(r)];
    auto& diag = d_.warning(lc::kRedundant, rule.location.span,
                            "this allow is redundant: every packet it decides is allowed by a later rule too, so "
                            "removing it changes nothing (for example " +
                                packet_text(fresh[0].key, fresh[0].range) + ")");
    for (int l : later)
      diag.notes.push_back({p_.rules[static_cast<std::size_t>(l)].location.span, "also allowed by " + rule_ref(l)});
    diag.hints.push_back("remove it, or narrow the later rule if this one states the intent");
  }

  void matches_nothing(int r) {
    const auto& rule = p_.rules[static_cast<std::size_t>(r)];
    bool self = false;
    bool family = false;
    for (const auto& s : rule.sources)
      for (const auto& d : rule.destinations)
        for (int sa : atoms(s))
          for (int da : atoms(d)) {
            if (sa == da && sa < hosts_) self = true;
            else family = true;
          }
    std::string why;
    if (self && !family) why = "its source and destination are the same host, whose traffic to itself crosses no firewall";
    else if (!self) why = "no source shares an address family with a destination";
    else why = "each source and destination is the same host or shares no address family with it";
    std::string what = rule.origin == ir::Origin::rule ? "this rule" : rule_name(r);
    auto& diag = d_.warning(lc::kMatchesNothing, rule.location.span, what + " matches no packet: " + why);
    if (family) {
      std::set<Endpoint> seen;
      for (const auto& list : {rule.sources, rule.destinations})
        for (const auto& e : list) {
          if (!seen.insert(e).second) continue;
          const auto& loc = e.kind == Endpoint::Kind::zone ? p_.zones[static_cast<std::size_t>(e.id)].location
                                                           : p_.hosts[static_cast<std::size_t>(e.id)].location;
          diag.notes.push_back({loc.span, "'" + p_.name_of(e) + "' has " +
                                              families_text(families_[static_cast<std::size_t>(atoms(e)[0])])});
        }
    }
    diag.hints.push_back("check the endpoints' addresses, or remove the rule");
  }

  void unused() {
    std::vector<bool> zone_used(p_.zones.size()), host_used(p_.hosts.size()), service_used(p_.services.size());
    auto mark = [&](const Endpoint& e) {
      if (e.kind == Endpoint::Kind::zone) zone_used[static_cast<std::size_t>(e.id)] = true;
      else host_used[static_cast<std::size_t>(e.id)] = true;
    };
    auto mark_services = [&](const std::vector<ir::RuleService>& list) {
      for (const auto& s : list)
        if (s.service) service_used[static_cast<std::size_t>(*s.service)] = true;
    };
    for (const auto& r : p_.rules) {
      if (r.origin != ir::Origin::rule) continue;  // vpn and publish blocks are counted below
      for (const auto& e : r.sources) mark(e);
      for (const auto& e : r.destinations) mark(e);
      mark_services(r.services);
    }
    for (const auto& inv : p_.invariants) {
      for (const auto& e : inv.sources) mark(e);
      for (const auto& e : inv.destinations) mark(e);
      mark_services(inv.services);
    }
    for (const auto& v : p_.vpns) {
      if (v.server >= 0) host_used[static_cast<std::size_t>(v.server)] = true;
      if (v.pool >= 0) zone_used[static_cast<std::size_t>(v.pool)] = true;
      for (const auto& e : v.listen_from) mark(e);
      for (const auto& e : v.routes) mark(e);
      // The IR keeps the listener's port, not its service: a service of exactly that port is its.
      for (std::size_t s = 0; s < p_.services.size(); ++s)
        if (p_.services[s].ports == std::vector<ir::ServicePort>{v.listen}) service_used[s] = true;
    }
    for (const auto& pub : p_.publishes) {
      if (pub.proxy >= 0) host_used[static_cast<std::size_t>(pub.proxy)] = true;
      if (pub.backend >= 0) host_used[static_cast<std::size_t>(pub.backend)] = true;
      if (pub.service >= 0) service_used[static_cast<std::size_t>(pub.service)] = true;
      for (const auto& e : pub.from) mark(e);
    }
    // A VM or the node is configured by the targets (its own firewall) even when no rule names it.
    for (std::size_t h = 0; h < p_.hosts.size(); ++h)
      if (p_.hosts[h].vmid || p_.hosts[h].is_node) host_used[h] = true;
    // A used host or nested zone needs its zone, and that zone its parent.
    auto mark_up = [&](std::optional<int> z) {
      for (int guard = 0; z && guard <= static_cast<int>(p_.zones.size()); ++guard) {
        zone_used[static_cast<std::size_t>(*z)] = true;
        z = p_.zones[static_cast<std::size_t>(*z)].parent;
      }
    };
    for (std::size_t h = 0; h < p_.hosts.size(); ++h)
      if (host_used[h] && p_.hosts[h].zone >= 0) mark_up(p_.hosts[h].zone);
    for (std::size_t z = 0; z < p_.zones.size(); ++z)
      if (zone_used[z]) mark_up(p_.zones[z].parent);

    for (std::size_t z = 0; z < p_.zones.size(); ++z) {
      if (zone_used[z]) continue;
      auto& diag = d_.warning(lc::kUnusedZone, p_.zones[z].location.span,
                              "zone '" + p_.zones[z].name +
                                  "' is never used: no rule, never, vpn or publish names it, its hosts or its nested zones");
      diag.hints.push_back("remove it, or write the rules it was meant for");
    }
    for (std::size_t h = 0; h < p_.hosts.size(); ++h) {
      if (host_used[h]) continue;
      const auto& host = p_.hosts[h];
      auto& diag = d_.warning(lc::kUnusedHost, host.location.span,
                              "host '" + host.name + "' is never used: no rule, never, vpn or publish names it");
      if (host.zone >= 0)
        diag.notes.push_back({p_.zones[static_cast<std::size_t>(host.zone)].location.span,
                              "it only gets the flows of its zone '" + p_.zones[static_cast<std::size_t>(host.zone)].name + "'"});
      diag.hints.push_back("remove it, or write the rules it was meant for");
    }
    for (std::size_t s = 0; s < p_.services.size(); ++s) {
      if (service_used[s]) continue;
      auto& diag = d_.warning(lc::kUnusedService, p_.services[s].location.span,
                              "service '" + p_.services[s].name + "' is never used: no rule, never, vpn or publish names it");
      diag.hints.push_back("remove it, or write the rules it was meant for");
    }
  }

  const ir::Policy& p_;
  Diagnostics& d_;
  int hosts_;
  std::vector<std::vector<int>> zone_hosts_;
  std::vector<unsigned> families_;  // per atom: hosts, then each zone's rest
  std::vector<std::vector<Cell>> cells_;  // per rule: the packets it names that can exist
  struct KeyedRange {
    int rule;
    PortRange range;
  };
  std::map<Key, std::vector<KeyedRange>> by_key_;  // every rule's cells by key, in rule order
};

}  // namespace

void lint_policy(const ir::Policy& policy, Diagnostics& diags) { Linter(policy, diags).run(); }

}  // namespace netpol
