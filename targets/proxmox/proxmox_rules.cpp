#include "proxmox_rules.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <tuple>

#include "comment.h"
#include "proxmox_codes.h"
#include "proxmox_facts.h"
#include "proxmox_sets.h"

namespace netpol::proxmox {

std::string RuleLine::str() const {
  std::string out = type + " " + action;
  if (!source.empty()) out += " -source " + source;
  if (!dest.empty()) out += " -dest " + dest;
  if (!proto.empty()) out += " -p " + proto;
  if (!dport.empty()) out += " -dport " + dport;
  if (!icmp_type.empty()) out += " -icmp-type " + icmp_type;
  if (!comment.empty()) out += " # " + comment;
  return out;
}

namespace {

// One side of a rule as Proxmox can name it.
struct SideRef {
  std::string ref;              // "+dc/lan", "dc/vm-intranet-v4"
  std::set<Family> families;    // what it can match
};

// Rules that differ only in their ports become one rule with a port list.
struct Key {
  std::string type, source, dest, proto, icmp_type;
  int rule = -1;
  auto operator<=>(const Key&) const = default;
};

class PointBuilder {
 public:
  PointBuilder(RuleContext& ctx, int host, bool pin_own) : ctx_(ctx), host_(host), pin_own_(pin_own) {}

  void add_flow(const ir::Flow& flow, bool in);
  std::vector<RuleLine> lines() const;

 private:
  std::vector<SideRef> sides(const ir::FlowEnd& end, int rule);
  std::vector<std::string> own_refs(Family f) const;
  std::optional<std::vector<std::string>> icmp_types(const ir::Flow& flow, Family f);
  void add(const ir::Flow& flow, bool in, const std::string& other, const std::string& own, Family f);
  void error_once(int rule, const std::string& cause, const std::string& message, const std::string& hint);

  RuleContext& ctx_;
  int host_;
  bool pin_own_;
  std::vector<Key> order_;
  std::map<Key, std::vector<ir::PortRange>> ports_;
};

std::set<Family> intersect(const std::set<Family>& a, const std::set<Family>& b) {
  std::set<Family> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.begin()));
  return out;
}

std::string family_name(Family f) { return f == Family::v4 ? "IPv4" : "IPv6"; }

bool all_hosts_of_zone(const ir::Policy& p, const ir::FlowEnd& end) {
  std::vector<int> hosts;
  for (std::size_t h = 0; h < p.hosts.size(); ++h)
    if (p.hosts[h].zone == end.endpoint.id) hosts.push_back(static_cast<int>(h));
  return hosts == end.except_hosts;  // both sorted
}

void PointBuilder::add_flow(const ir::Flow& flow, bool in) {
  const auto& other = in ? flow.source : flow.destination;
  const auto& own = ctx_.policy.hosts[static_cast<std::size_t>(host_)].addresses;
  auto own_families = families(own);
  for (const auto& side : sides(other, flow.rule)) {
    auto fams = intersect(side.families, own_families);
    bool icmp = flow.proto == ir::Proto::icmp;
    // Leave the own side out when the rule cannot match a family the point lacks
    // (an alias or `-p icmp` pins one family; ipsets alone compile for both).
    bool omit_own = !pin_own_ && (icmp || fams == side.families);
    for (Family f : fams) {
      if (omit_own) {
        add(flow, in, side.ref, "", f);
        continue;
      }
      for (const auto& ref : own_refs(f)) add(flow, in, side.ref, ref, f);
    }
  }
}

std::vector<SideRef> PointBuilder::sides(const ir::FlowEnd& end, int rule) {
  const auto& p = ctx_.policy;
  if (end.endpoint.kind == ir::Endpoint::Kind::host) {
    std::vector<SideRef> out;
    for (const auto& a : ctx_.names.aliases(end.endpoint.id)) out.push_back({"dc/" + a.name, {a.address.family}});
    return out;
  }
  auto set = ipset_entries(p, end);
  if (set.include.empty()) return {};  // nothing to allow
  if (end.except_hosts.empty()) return {{"+dc/" + ctx_.names.zone_set(end.endpoint.id), families(set.include)}};
  if (!all_hosts_of_zone(p, end)) {
    error_once(rule, "partial-rest",
               "the Proxmox target cannot express zone '" + p.name_of(end.endpoint) +
                   "' without only some of its hosts: it has one ipset for a zone other than all its hosts",
               "this comes from the resolved matrix; please report it");
    return {};
  }
  return {{"+dc/" + ctx_.names.rest_set(end.endpoint.id), families(set.include)}};
}

std::vector<std::string> PointBuilder::own_refs(Family f) const {
  std::vector<std::string> out;
  for (const auto& a : ctx_.names.aliases(host_))
    if (a.address.family == f) out.push_back("dc/" + a.name);
  return out;
}

// The `-icmp-type` values of a flow in one family: {""} for every type.
std::optional<std::vector<std::string>> PointBuilder::icmp_types(const ir::Flow& flow, Family f) {
  if (flow.ports.first == 0 && flow.ports.last == 255) return std::vector<std::string>{""};
  std::vector<std::string> out;
  for (long t = flow.ports.first; t <= flow.ports.last; ++t) {
    auto type = static_cast<std::uint16_t>(t);
    auto name = f == Family::v4 ? icmp_v4_name(type) : icmp_v6_name(type);
    if (!name) {
      error_once(flow.rule, "icmp-" + family_name(f),
                 "the Proxmox target cannot express " + ir::ServicePort{flow.proto, flow.ports}.str() + " for " +
                     family_name(f) + ": ICMP type " + std::to_string(t) + " has no " +
                     (f == Family::v4 ? "ICMP" : "ICMPv6") + " name that both Proxmox firewalls accept",
                 f == Family::v6 ? "ICMPv6 names exist for echo-request, echo-reply, destination-unreachable, "
                                   "time-exceeded and parameter-problem; limit the rule to IPv4 addresses or drop that type"
                                 : "Proxmox refuses numeric ICMP types; allow named types or all of ICMP");
      return std::nullopt;
    }
    out.push_back(*name);
  }
  return out;
}

void PointBuilder::add(const ir::Flow& flow, bool in, const std::string& other, const std::string& own, Family f) {
  Key key;
  key.type = in ? "IN" : "OUT";
  key.source = in ? other : own;
  key.dest = in ? own : other;
  key.rule = flow.rule;
  if (flow.proto != ir::Proto::icmp) {
    key.proto = ir::to_string(flow.proto);
    if (!ports_.count(key)) order_.push_back(key);
    ports_[key].push_back(flow.ports);
    return;
  }
  key.proto = f == Family::v4 ? "icmp" : "icmpv6";
  auto types = icmp_types(flow, f);
  if (!types) return;
  for (const auto& t : *types) {
    key.icmp_type = t;
    if (!ports_.count(key)) order_.push_back(key);
    ports_[key];
  }
}

void PointBuilder::error_once(int rule, const std::string& cause, const std::string& message, const std::string& hint) {
  if (!ctx_.reported.insert(std::to_string(rule) + "/" + cause).second) return;
  auto& d = ctx_.diags.error(code::kCannotExpress, ctx_.policy.rules[static_cast<std::size_t>(rule)].location.span, message);
  d.hints.push_back(hint);
}

std::vector<RuleLine> PointBuilder::lines() const {
  std::vector<RuleLine> out;
  for (const auto& key : order_) {
    RuleLine line{key.type, "ACCEPT", key.source, key.dest, key.proto, "", key.icmp_type,
                  rule_comment(ctx_.policy, key.rule)};
    const auto& ports = ports_.at(key);
    if (ports.empty()) {
      out.push_back(line);
      continue;
    }
    for (const auto& list : split_port_lists(coalesce(ports))) {
      line.dport = port_spec(list);
      out.push_back(line);
    }
  }
  return out;
}

}  // namespace

std::vector<RuleLine> vm_group_rules(RuleContext& ctx, int vm) {
  PointBuilder builder(ctx, vm, false);
  for (const auto& flow : ctx.policy.flows) {
    if (covers(ctx.policy, flow.destination, vm) && !is_host(flow.source, vm)) builder.add_flow(flow, true);
    if (covers(ctx.policy, flow.source, vm) && !is_host(flow.destination, vm)) builder.add_flow(flow, false);
  }
  return builder.lines();
}

std::vector<RuleLine> node_rules(RuleContext& ctx, int node) {
  PointBuilder builder(ctx, node, true);
  for (const auto& flow : ctx.policy.flows)
    if (covers(ctx.policy, flow.destination, node) && !is_host(flow.source, node)) builder.add_flow(flow, true);
  auto out = builder.lines();
  RuleLine drop{"IN", "DROP", "", "", "tcp", port_spec(management_ports()), "",
                safe_comment("management ports Proxmox opens to the subnet of the node: only the rules above reach them")};
  out.push_back(drop);
  return out;
}

}  // namespace netpol::proxmox
