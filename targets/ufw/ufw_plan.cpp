#include "ufw_plan.h"

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <tuple>

#include "address_sets.h"
#include "comment.h"
#include "ufw_codes.h"

namespace netpol::ufw {

namespace {

using Kind = ir::Endpoint::Kind;

const ir::Host& host_of(const ir::Policy& p, int h) { return p.hosts[static_cast<std::size_t>(h)]; }

// The flow end stands for the VM: the VM itself, or its zone with the VM not excepted.
bool covers(const ir::Policy& p, const ir::FlowEnd& end, int vm) {
  if (end.endpoint.kind == Kind::host) return end.endpoint.id == vm;
  return end.endpoint.id == host_of(p, vm).zone &&
         std::find(end.except_hosts.begin(), end.except_hosts.end(), vm) == end.except_hosts.end();
}

// The flow end lies inside the zone: the zone itself or one of its hosts.
bool within_zone(const ir::Policy& p, const ir::FlowEnd& end, int zone) {
  if (end.endpoint.kind == Kind::zone) return end.endpoint.id == zone;
  return host_of(p, end.endpoint.id).zone == zone;
}

bool is_host(const ir::FlowEnd& end, int h) { return end.endpoint.kind == Kind::host && end.endpoint.id == h; }

// ufw writes a single host without its /32 or /128.
std::string ufw_address(const Cidr& c) { return c.str(true); }

// ICMP types Debian's before.rules accept on INPUT and FORWARD: destination-unreachable,
// echo-request, time-exceeded, parameter-problem.
bool baseline_icmp(ir::PortRange types) {
  for (int t = types.first; t <= types.last; ++t)
    if (t != 3 && t != 8 && t != 11 && t != 12) return false;
  return true;
}

// Who and where one ufw rule is about; the ports are gathered per key.
struct Key {
  bool forward = false;
  std::string direction, iface_in, iface_out;
  Cidr src, dst;
  ir::Proto proto = ir::Proto::tcp;
  int rule = -1;
  auto operator<=>(const Key&) const = default;
};

class Planner {
 public:
  Planner(const ir::Policy& p, Diagnostics& d) : p_(p), diags_(d) {}

  std::optional<HostRules> plan(int vm) {
    if (!valid_name(vm)) return std::nullopt;
    auto pool = vpn_pool(vm);
    for (const auto& f : p_.flows) {
      if (f.proto == ir::Proto::icmp) check_icmp(f, vm, pool);
      else add_flow(f, vm, pool);
    }
    return build(vm);
  }

 private:
  bool valid_name(int vm) {
    static const std::regex pattern("[a-z][a-z0-9_-]{1,17}");
    const auto& h = host_of(p_, vm);
    if (std::regex_match(h.name, pattern)) return true;
    auto& d = diags_.error(code::kBadHostName, h.location.span,
                           "ufw target: VM name '" + safe_comment(h.name) + "' cannot name a ufw file");
    d.hints.push_back("VM names are 2 to 18 characters: a lower-case letter, then lower-case letters, digits, '-' or '_'");
    return false;
  }

  // The VPN pool zone when this VM is a VPN server; one tunnel interface, so one VPN.
  std::optional<int> vpn_pool(int vm) {
    std::optional<int> pool;
    const ir::Vpn* first = nullptr;
    for (const auto& v : p_.vpns) {
      if (v.server != vm) continue;
      if (first) {
        diags_.error(code::kTwoVpns, v.location.span,
                     "ufw target: VM '" + host_of(p_, vm).name + "' serves VPNs '" + first->name + "' and '" + v.name +
                         "', but ufw filters one tunnel interface (" + kVpnInterface + ")");
        continue;
      }
      first = &v;
      pool = v.pool;
    }
    return pool;
  }

  const std::vector<Cidr>& networks(const ir::FlowEnd& end) {
    auto it = networks_.find(end);
    if (it == networks_.end()) it = networks_.emplace(end, disjoint_cidrs(address_set(p_, end))).first;
    return it->second;
  }

  void add_flow(const ir::Flow& f, int vm, std::optional<int> pool) {
    const auto& addresses = host_of(p_, vm).addresses;
    bool from_pool = pool && within_zone(p_, f.source, *pool);
    bool to_pool = pool && within_zone(p_, f.destination, *pool);
    std::string tunnel_in = from_pool ? kVpnInterface : "";
    if (covers(p_, f.destination, vm))
      for (const auto& s : networks(f.source))
        for (const auto& a : addresses) add({false, "in", tunnel_in, "", s, a, f.proto, f.rule}, f);
    if (covers(p_, f.source, vm))
      for (const auto& a : addresses)
        for (const auto& d : networks(f.destination)) add({false, "out", "", "", a, d, f.proto, f.rule}, f);
    // The VPN server forwards the tunnel's traffic: from the pool on, and to the pool.
    if (from_pool && !is_host(f.destination, vm)) add_route(f, kVpnInterface, "");
    else if (to_pool && !is_host(f.source, vm)) add_route(f, "", kVpnInterface);
  }

  void add_route(const ir::Flow& f, const std::string& in, const std::string& out) {
    for (const auto& s : networks(f.source))
      for (const auto& d : networks(f.destination)) add({true, in.empty() ? "out" : "in", in, out, s, d, f.proto, f.rule}, f);
  }

  void add(Key key, const ir::Flow& f) {
    if (key.src.family != key.dst.family) return;  // a v4 source never pairs with a v6 destination
    if (f.ports.first < 1 || f.ports.first > f.ports.last) {  // ufw refuses port 0 and reversed ranges
      if (bad_ports_.insert(f.rule).second)
        diags_.error(code::kBadValue, p_.rules[static_cast<std::size_t>(f.rule)].location.span,
                     "ufw target: port range " + ir::ServicePort{f.proto, f.ports}.str() + " cannot be written for ufw");
      return;
    }
    auto [it, fresh] = ports_.try_emplace(key);
    if (fresh) order_.push_back(key);
    it->second.push_back(f.ports);
  }

  void check_icmp(const ir::Flow& f, int vm, std::optional<int> pool) {
    bool out = covers(p_, f.source, vm) && !is_host(f.destination, vm);  // to itself: loopback, which ufw accepts
    bool in = covers(p_, f.destination, vm);
    bool routed = pool && (within_zone(p_, f.source, *pool) || within_zone(p_, f.destination, *pool)) &&
                  !is_host(f.source, vm) && !is_host(f.destination, vm);
    std::string what = out ? "outgoing" : !baseline_icmp(f.ports) ? (in ? "incoming" : routed ? "routed" : "") : "";
    if (what.empty() || !warned_.insert({f.rule, vm, what}).second) return;
    const auto& rule = p_.rules[static_cast<std::size_t>(f.rule)];
    auto& d = diags_.warning(code::kIcmpDropped, rule.location.span,
                             "ufw target: the ufw of VM '" + host_of(p_, vm).name + "' cannot allow " + what + " " +
                                 ir::ServicePort{f.proto, f.ports}.str() + " (" + p_.name_of(f.source.endpoint) +
                                 " -> " + p_.name_of(f.destination.endpoint) + "): ufw has no ICMP rules, so it drops it");
    d.hints.push_back(
        "ufw passes only ICMP replies and errors of allowed connections, and incoming echo-request, "
        "destination-unreachable, time-exceeded and parameter-problem (Debian's before.rules); "
        "see docs/targets/ufw.md");
  }

  // Every value checked against what ufw accepts before it reaches a file.
  bool valid(const Rule& r, const Key& key) {
    auto canonical = [](const Cidr& c) {
      auto parsed = parse_cidr(c.str());
      return parsed.cidr && *parsed.cidr == c;
    };
    bool comment_ok = !r.comment.empty() && std::all_of(r.comment.begin(), r.comment.end(), [](char c) {
      return c >= 0x20 && c <= 0x7e && c != '\'';
    });
    if (canonical(key.src) && canonical(key.dst) && comment_ok) return true;
    const auto& rule = p_.rules[static_cast<std::size_t>(key.rule)];
    diags_.error(code::kBadValue, rule.location.span,
                 "ufw target: a value of this rule cannot be written for ufw (address " + key.src.str() + " or " +
                     key.dst.str() + ", or its comment)");
    return false;
  }

  HostRules build(int vm) {
    HostRules out;
    out.host = vm;
    for (const auto& key : order_) {
      for (const auto& ports : port_lists(ports_.at(key))) {
        Rule r;
        r.forward = key.forward;
        r.direction = key.direction;
        r.iface_in = key.iface_in;
        r.iface_out = key.iface_out;
        r.proto = ir::to_string(key.proto);
        r.dport = ports;
        r.src = ufw_address(key.src);
        r.dst = ufw_address(key.dst);
        r.comment = rule_comment(p_, key.rule);
        r.v6 = key.src.family == Family::v6;
        if (!valid(r, key)) continue;
        (r.v6 ? out.v6 : out.v4).push_back(std::move(r));
      }
    }
    order_.clear();
    ports_.clear();
    return out;
  }

  const ir::Policy& p_;
  Diagnostics& diags_;
  std::map<ir::FlowEnd, std::vector<Cidr>> networks_;
  std::vector<Key> order_;
  std::map<Key, std::vector<ir::PortRange>> ports_;
  std::set<std::tuple<int, int, std::string>> warned_;
  std::set<int> bad_ports_;
};

std::string port_text(ir::PortRange r) {
  return r.first == r.last ? std::to_string(r.first) : std::to_string(r.first) + ":" + std::to_string(r.last);
}

}  // namespace

std::vector<std::string> port_lists(std::vector<ir::PortRange> ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::vector<ir::PortRange> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().last + 1) merged.back().last = std::max(merged.back().last, r.last);
    else merged.push_back(r);
  }
  std::vector<std::string> out;
  std::string list;
  int numbers = 0;
  for (const auto& r : merged) {
    int n = r.first == r.last ? 1 : 2;
    if (numbers + n > kMaxPortNumbers) {
      out.push_back(list);
      list.clear();
      numbers = 0;
    }
    list += (list.empty() ? "" : ",") + port_text(r);
    numbers += n;
  }
  if (!list.empty()) out.push_back(list);
  return out;
}

std::vector<HostRules> plan_ufw(const ir::Policy& policy, Diagnostics& diags) {
  std::vector<HostRules> out;
  Planner planner(policy, diags);
  for (std::size_t h = 0; h < policy.hosts.size(); ++h) {
    if (!policy.hosts[h].vmid) continue;
    if (auto rules = planner.plan(static_cast<int>(h))) out.push_back(std::move(*rules));
  }
  return out;
}

}  // namespace netpol::ufw
