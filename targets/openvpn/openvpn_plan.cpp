#include "openvpn_plan.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "address_sets.h"
#include "icmp_types.h"
#include "openvpn_codes.h"

namespace netpol::openvpn {

namespace {

using ir::Endpoint;

// OpenVPN 2.6.14 limits, checked with the real binary (docs/targets/openvpn.md):
// `server` with dev tun needs /16../29; `server-ipv6` and `ifconfig-ipv6-pool` need /64../124.
constexpr int kPool4MinPrefix = 16;
constexpr int kPool4MaxPrefix = 29;
constexpr int kPool6MinPrefix = 64;
constexpr int kPool6MaxPrefix = 124;
constexpr std::uint64_t kPoolMax = 65536;      // IFCONFIG_POOL_MAX
constexpr std::uint32_t kPool6Offset = 0x1000;  // where server-ipv6 starts its pool (prefix < 112)

bool valid_name(const std::string& name) {
  static const std::regex re("^[a-z][a-z0-9_-]{1,17}$");  // shared/formats.md 6.1: fits the CN class
  return std::regex_match(name, re);
}

const ir::Host& host_of(const ir::Policy& p, int h) { return p.hosts[static_cast<std::size_t>(h)]; }
const ir::Zone& zone_of(const ir::Policy& p, int z) { return p.zones[static_cast<std::size_t>(z)]; }

bool in_catch_all(const ir::Policy& p, const Endpoint& e) {
  int zone = e.kind == Endpoint::Kind::zone ? e.id : host_of(p, e.id).zone;
  return zone >= 0 && zone_of(p, zone).catch_all;
}

// Whether a flow end stands for this host (a host of the end's zone, unless excepted).
bool covers_host(const ir::Policy& p, const ir::FlowEnd& end, int host) {
  if (end.endpoint.kind == Endpoint::Kind::host) return end.endpoint.id == host;
  return end.endpoint.id == host_of(p, host).zone &&
         std::find(end.except_hosts.begin(), end.except_hosts.end(), host) == end.except_hosts.end();
}

// One "atom" of the pool zone: a host, or (host = -1) the zone's addresses that are no host's.
bool covers_atom(const ir::Policy& p, const ir::FlowEnd& end, int zone, int host) {
  if (host >= 0) return covers_host(p, end, host);
  return end.endpoint.kind == Endpoint::Kind::zone && end.endpoint.id == zone;
}

bool covers_range(std::vector<ir::PortRange> ranges, std::uint32_t first, std::uint32_t last) {
  std::sort(ranges.begin(), ranges.end());
  std::uint32_t next = first;  // the lowest value not yet covered
  for (const auto& r : ranges) {
    if (r.first > next) break;
    next = std::max<std::uint32_t>(next, std::uint32_t{r.last} + 1);
    if (next > last) return true;
  }
  return next > last;
}

// The family-filtered networks of a flow end, or of a route endpoint.
std::vector<Cidr> networks_of(const ir::Policy& p, const ir::FlowEnd& end) { return disjoint_cidrs(address_set(p, end)); }

std::uint64_t low64(const Cidr& c) {
  std::uint64_t v = 0;
  for (std::size_t i = 8; i < 16; ++i) v = (v << 8) | c.bytes[i];
  return v;
}

std::string rule_where(const ir::Policy& p, int rule) { return p.rules[static_cast<std::size_t>(rule)].location.where(); }

class Planner {
 public:
  Planner(const ir::Policy& p, Diagnostics& d) : p_(p), diags_(d) {}

  std::vector<Server> run() {
    std::vector<Server> out;
    std::map<int, int> by_server, by_pool;  // host/zone -> first vpn
    for (std::size_t i = 0; i < p_.vpns.size(); ++i) {
      const auto& vpn = p_.vpns[i];
      bool ok = true;
      if (auto [it, fresh] = by_server.emplace(vpn.server, static_cast<int>(i)); !fresh) {
        auto& d = diags_.error(code::kSharedServer, vpn.location.span,
                               "vpn '" + vpn.name + "' runs on " + host_of(p_, vpn.server).name + ", which already serves vpn '" +
                                   p_.vpns[static_cast<std::size_t>(it->second)].name + "'");
        d.notes.push_back({p_.vpns[static_cast<std::size_t>(it->second)].location.span, "the first VPN on that host"});
        d.hints.push_back("netpol writes one server.conf per host (one tun0, which the host's firewall filters); "
                          "give each VPN its own host");
        ok = false;
      }
      if (auto [it, fresh] = by_pool.emplace(vpn.pool, static_cast<int>(i)); !fresh) {
        auto& d = diags_.error(code::kSharedPool, vpn.location.span,
                               "vpn '" + vpn.name + "' uses the pool zone '" + zone_of(p_, vpn.pool).name +
                                   "' of vpn '" + p_.vpns[static_cast<std::size_t>(it->second)].name + "'");
        d.notes.push_back({p_.vpns[static_cast<std::size_t>(it->second)].location.span, "the first VPN with that pool"});
        d.hints.push_back("two servers would hand out the same addresses: give each VPN its own pool zone");
        ok = false;
      }
      Server s;
      s.vpn = static_cast<int>(i);
      if (!valid_name(vpn.name)) {
        unsafe(vpn, "the VPN name '" + vpn.name + "'");
        ok = false;
      }
      s.dir = p_.vpns.size() == 1 ? "openvpn" : "openvpn/" + vpn.name;
      ok = listener(vpn, s) && ok;
      if (pool(vpn, s) && ok) {
        if (clients(vpn, s) && routes(vpn, s)) {
          client_to_client(vpn, s);
          client_routes(s);
          out.push_back(std::move(s));
        }
      }
    }
    return out;
  }

 private:
  void unsafe(const ir::Vpn& vpn, const std::string& what) {
    auto& d = diags_.error(code::kUnsafeValue, vpn.location.span,
                           what + " cannot be written into OpenVPN's files");
    d.hints.push_back("names are 2 to 18 characters: a lower-case letter, then lower-case letters, digits, '-' or '_'");
  }

  bool listener(const ir::Vpn& vpn, Server& s) {
    const auto& l = vpn.listen;
    if (l.proto == ir::Proto::icmp || l.range.first != l.range.last || l.range.first == 0) {
      auto& d = diags_.error(code::kListen, vpn.location.span,
                             "vpn '" + vpn.name + "' listens on " + l.str() + ": OpenVPN listens on one udp or tcp port");
      d.hints.push_back("listen on a service of one port, such as udp/1194");
      return false;
    }
    s.listen = l;
    return true;
  }

  bool pool(const ir::Vpn& vpn, Server& s) {
    const auto& zone = zone_of(p_, vpn.pool);
    std::vector<Cidr> v4, v6;
    for (const auto& n : zone.networks) (n.family == Family::v4 ? v4 : v6).push_back(n);
    auto fail = [&](const std::string& why, const std::string& hint) {
      auto& d = diags_.error(code::kPool, vpn.location.span,
                             "vpn '" + vpn.name + "': OpenVPN cannot serve the pool zone '" + zone.name + "': " + why);
      d.notes.push_back({zone.location.span, "the pool zone"});
      if (!hint.empty()) d.hints.push_back(hint);
      return false;
    };
    if (zone.catch_all) return fail("it is the catch-all zone", "give the clients a zone of their own");
    if (v4.size() != 1)
      return fail(v4.empty() ? "it has no IPv4 network" : "it has several IPv4 networks",
                  "`server` takes one IPv4 network: give the pool zone one, such as 198.18.8.0/24");
    if (v6.size() > 1) return fail("it has several IPv6 networks", "`server-ipv6` takes one IPv6 network");
    if (!zone.children.empty())
      return fail("zone '" + zone_of(p_, zone.children.front()).name + "' is nested in it",
                  "OpenVPN hands out the whole network: declare the clients as hosts of the pool zone instead");
    if (v4[0].prefix < kPool4MinPrefix || v4[0].prefix > kPool4MaxPrefix)
      return fail(v4[0].str() + " is not a /16 to /29 network", "OpenVPN's `server` with dev tun needs /16 to /29");
    if (!v6.empty() && (v6[0].prefix < kPool6MinPrefix || v6[0].prefix > kPool6MaxPrefix))
      return fail(v6[0].str() + " is not a /64 to /124 network", "OpenVPN's IPv6 pool needs /64 to /124");
    s.pool4 = v4[0];
    if (!v6.empty()) s.pool6 = v6[0];
    return true;
  }

  bool clients(const ir::Vpn& vpn, Server& s) {
    bool ok = true;
    auto fail = [&](const ir::Host& h, const std::string& why, const std::string& hint) {
      auto& d = diags_.error(code::kClientAddress, vpn.location.span,
                             "vpn '" + vpn.name + "': client " + h.name + " " + why);
      d.notes.push_back({h.location.span, "the client (a host of the pool zone)"});
      if (!hint.empty()) d.hints.push_back(hint);
      ok = false;
    };
    std::uint32_t net = v4_value(s.pool4);
    std::uint32_t broadcast = net | (s.pool4.prefix == 0 ? 0xffffffffu : ((1u << (32 - s.pool4.prefix)) - 1));
    for (std::size_t h = 0; h < p_.hosts.size(); ++h) {
      const auto& host = p_.hosts[h];
      if (host.zone != vpn.pool) continue;
      if (!valid_name(host.name)) {
        unsafe(vpn, "the client name '" + host.name + "'");
        ok = false;
        continue;
      }
      Client c;
      c.host = static_cast<int>(h);
      c.name = host.name;
      std::vector<Cidr> v4, v6;
      for (const auto& a : host.addresses) (a.family == Family::v4 ? v4 : v6).push_back(a);
      if (v4.size() != 1) {
        fail(host, v4.empty() ? "has no IPv4 address" : "has several IPv4 addresses",
             "a client gets exactly one fixed IPv4 address of the pool (ifconfig-push)");
        continue;
      }
      if (v6.size() > 1 || (!v6.empty() && !s.pool6)) {
        fail(host, v6.size() > 1 ? "has several IPv6 addresses" : "has an IPv6 address, but the pool has no IPv6 network",
             "a client gets at most one fixed IPv6 address of the pool (ifconfig-ipv6-push)");
        continue;
      }
      if (v6.empty() && s.pool6) {
        fail(host, "has no IPv6 address, but the pool " + s.pool6->str() + " has one",
             "give it an address of " + s.pool6->str() + ": with its IPv4 fixed, OpenVPN would not give it one");
        continue;
      }
      std::uint32_t a = v4_value(v4[0]);
      if (!s.pool4.contains(v4[0]) || a == net || a == net + 1 || a == broadcast) {
        fail(host, "cannot have " + v4[0].str(true) + ": OpenVPN keeps " + v4_text(net) + " (network), " +
                       v4_text(net + 1) + " (the server) and " + v4_text(broadcast) + " (broadcast)",
             "pick another address of " + s.pool4.str());
        continue;
      }
      c.v4 = v4[0];
      if (!v6.empty()) {
        const Cidr& pool6 = *s.pool6;
        bool reserved = !pool6.contains(v6[0]);
        for (std::uint32_t k = 0; k <= 2 && !reserved; ++k) reserved = v6[0] == offset_address(pool6, k);
        if (reserved) {
          fail(host, "cannot have " + v6[0].str(true) + ": OpenVPN keeps " + offset_address(pool6, 0).str(true) + ", " +
                         offset_address(pool6, 1).str(true) + " (the server) and " + offset_address(pool6, 2).str(true),
               "pick another address of " + pool6.str());
          continue;
        }
        c.v6 = v6[0];
      }
      s.clients.push_back(std::move(c));
    }
    if (!ok || s.clients.empty()) return ok;

    // The dynamic IPv4 pool: the longest run of free addresses between the server's
    // `server` pool bounds (network+2 .. broadcast-1), the lowest such run on a tie.
    std::set<std::uint32_t> fixed;
    for (const auto& c : s.clients) fixed.insert(v4_value(c.v4));
    std::uint64_t best_first = 0, best_len = 0, run_first = net + 2;
    for (std::uint64_t a = std::uint64_t{net} + 2; a <= std::uint64_t{broadcast} - 1 + 1; ++a) {
      bool end = a == std::uint64_t{broadcast} || fixed.count(static_cast<std::uint32_t>(a));
      if (!end) continue;
      if (a > run_first && a - run_first > best_len) {
        best_first = run_first;
        best_len = a - run_first;
      }
      run_first = a + 1;
    }
    if (best_len == 0) {
      auto& d = diags_.error(code::kPoolFull, vpn.location.span,
                             "vpn '" + vpn.name + "': the clients' fixed addresses leave no address of " + s.pool4.str() +
                                 " for OpenVPN's dynamic pool");
      d.hints.push_back("use a larger pool network, or fewer fixed clients");
      return false;
    }
    s.dynamic_first = static_cast<std::uint32_t>(best_first);
    s.dynamic_last = static_cast<std::uint32_t>(best_first + best_len - 1);

    if (s.pool6) {
      // The IPv6 pool hands out base+i with the IPv4 pool's index i: keep fixed IPv6 addresses out of that range.
      const Cidr& pool6 = *s.pool6;
      std::uint32_t offset = pool6.prefix < 112 ? kPool6Offset : 2;
      Cidr base = offset_address(pool6, offset);
      std::uint64_t size6 = pool6.prefix < 112 ? kPoolMax : (std::uint64_t{1} << (128 - pool6.prefix)) - offset;
      std::uint64_t size = std::min<std::uint64_t>(best_len, size6);
      for (const auto& c : s.clients) {
        bool same_top = std::equal(base.bytes.begin(), base.bytes.begin() + 8, c.v6->bytes.begin());
        std::uint64_t low = low64(*c.v6), first = low64(base);
        if (same_top && low >= first && low - first < size) {
          const auto& host = host_of(p_, c.host);
          fail(host, "cannot have " + c.v6->str(true) + ": it lies in OpenVPN's dynamic IPv6 pool " + base.str(true) +
                         " and the " + std::to_string(size - 1) + " addresses after it",
               "pick an address of " + pool6.str() + " below " + base.str(true));
        }
      }
      if (!ok) return false;
      s.dynamic6_base = base;
    }
    return ok;
  }

  bool routes(const ir::Vpn& vpn, Server& s) {
    std::vector<Cidr> all;
    std::vector<Endpoint> seen;
    bool ok = true;
    for (const auto& r : vpn.routes) {
      if (std::find(seen.begin(), seen.end(), r) != seen.end()) continue;
      seen.push_back(r);
      if (r.kind == Endpoint::Kind::zone && zone_of(p_, r.id).catch_all) {
        auto& d = diags_.error(code::kCatchAllRoute, vpn.location.span,
                               "vpn '" + vpn.name + "' routes the catch-all zone '" + zone_of(p_, r.id).name +
                                   "': its routes would pull the tunnel's own packets into the tunnel");
        d.hints.push_back("route only the zones and hosts behind the server; sending all traffic through the VPN "
                          "(redirect-gateway) is not supported");
        ok = false;
        continue;
      }
      std::vector<Cidr> nets;
      bool v6_skipped = false;
      for (const auto& n : networks_of(p_, ir::FlowEnd{r, {}})) {
        if (n.family == Family::v6 && !s.pool6) v6_skipped = true;
        else nets.push_back(n);
      }
      if (v6_skipped) s.unrouted.push_back("the IPv6 networks of " + p_.name_of(r) + " (the pool has no IPv6 network)");
      std::vector<Cidr> pool_nets{s.pool4};
      if (s.pool6) pool_nets.push_back(*s.pool6);
      auto kept = subtract(nets, pool_nets);
      std::sort(nets.begin(), nets.end());
      if (kept != nets) s.unrouted.push_back(p_.name_of(r) + " (inside the pool: on the tunnel already)");
      all.insert(all.end(), kept.begin(), kept.end());
    }
    s.routes = aggregate(all);
    return ok;
  }

  void client_to_client(const ir::Vpn& vpn, Server& s) {
    const int zone = vpn.pool;
    std::vector<int> atoms{-1};
    for (const auto& c : s.clients) atoms.push_back(c.host);
    bool any = false, all = true;
    struct Space {
      ir::Proto proto;
      std::uint32_t first, last;
    };
    const Space families[] = {{ir::Proto::tcp, 1, 65535}, {ir::Proto::udp, 1, 65535}, {ir::Proto::icmp, 0, kIcmpTypeMax}};
    for (int a : atoms) {
      for (int b : atoms) {
        if (a >= 0 && a == b) continue;  // a host to itself never crosses the tunnel
        for (const auto& fam : families) {
          std::vector<ir::PortRange> ranges;
          for (const auto& f : p_.flows) {
            if (f.proto != fam.proto || !covers_atom(p_, f.source, zone, a) || !covers_atom(p_, f.destination, zone, b))
              continue;
            ranges.push_back(f.ports);
            any = true;
          }
          if (!covers_range(ranges, fam.first, fam.last)) all = false;
        }
      }
    }
    s.client_to_client = any && all;
    s.pool_to_pool_partly = any && !all;
  }

  void client_routes(Server& s) {
    std::vector<Cidr> on_link{s.pool4};
    if (s.pool6) on_link.push_back(*s.pool6);
    for (auto& c : s.clients) {
      std::vector<Cidr> all;
      std::set<int> rules;
      std::set<std::string> unrouted;
      for (const auto& f : p_.flows) {
        if (!covers_host(p_, f.source, c.host)) continue;
        const auto& dst = f.destination;
        std::string what = p_.name_of(dst.endpoint) + " (" + rule_where(p_, f.rule) + ")";
        if (in_catch_all(p_, dst.endpoint)) {
          unrouted.insert(what + ", in the catch-all zone: reached outside the tunnel");
          continue;
        }
        std::vector<Cidr> nets;
        bool v6_skipped = false;
        for (const auto& n : networks_of(p_, dst)) {
          if (n.family == Family::v6 && !s.pool6) v6_skipped = true;
          else nets.push_back(n);
        }
        if (v6_skipped) unrouted.insert("the IPv6 networks of " + what + " (the pool has no IPv6 network)");
        nets = subtract(subtract(nets, on_link), s.routes);
        if (nets.empty()) continue;
        rules.insert(f.rule);
        all.insert(all.end(), nets.begin(), nets.end());
      }
      c.routes = aggregate(all);
      c.route_rules.assign(rules.begin(), rules.end());
      c.unrouted.assign(unrouted.begin(), unrouted.end());
    }
  }

  const ir::Policy& p_;
  Diagnostics& diags_;
};

}  // namespace

std::uint32_t v4_value(const Cidr& c) {
  return (std::uint32_t{c.bytes[0]} << 24) | (std::uint32_t{c.bytes[1]} << 16) | (std::uint32_t{c.bytes[2]} << 8) |
         std::uint32_t{c.bytes[3]};
}

Cidr v4_address(std::uint32_t value) {
  Cidr c;
  c.family = Family::v4;
  c.prefix = 32;
  for (int i = 0; i < 4; ++i) c.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
  return c;
}

std::string v4_text(std::uint32_t value) { return v4_address(value).str(true); }

std::string v4_netmask(int prefix) {
  std::uint32_t mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
  return v4_text(mask);
}

Cidr offset_address(const Cidr& network, std::uint32_t offset) {
  Cidr c = network;
  c.prefix = c.max_prefix();
  std::uint32_t carry = offset;
  for (int i = (c.family == Family::v4 ? 3 : 15); i >= 0 && carry; --i) {
    std::uint32_t sum = c.bytes[static_cast<std::size_t>(i)] + (carry & 0xff);
    c.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(sum);
    carry = (carry >> 8) + (sum >> 8);
  }
  return c;
}

std::vector<Cidr> aggregate(std::vector<Cidr> list) {
  bool changed = true;
  while (changed) {
    changed = false;
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    std::vector<Cidr> kept;
    for (const auto& c : list)
      if (std::none_of(list.begin(), list.end(), [&](const Cidr& o) { return o != c && o.contains(c); }))
        kept.push_back(c);
    if (kept.size() != list.size()) changed = true;
    list = std::move(kept);
    // Join two halves of one network into it.
    for (std::size_t i = 0; i + 1 < list.size(); ++i) {
      const Cidr& a = list[i];
      const Cidr& b = list[i + 1];
      if (a.family != b.family || a.prefix != b.prefix || a.prefix == 0) continue;
      Cidr parent = a;
      parent.prefix = a.prefix - 1;
      auto bit = static_cast<std::size_t>(parent.prefix / 8);
      parent.bytes[bit] &= static_cast<std::uint8_t>(~(0x80 >> (parent.prefix % 8)));
      if (parent.bytes == a.bytes && parent.contains(b)) {  // a is the low half, b the high one
        list[i] = parent;
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        changed = true;
        break;
      }
    }
  }
  return list;
}

std::vector<Server> plan_servers(const ir::Policy& policy, Diagnostics& diags) { return Planner(policy, diags).run(); }

}  // namespace netpol::openvpn
