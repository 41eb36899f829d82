#include "ufw_drift.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "address_sets.h"
#include "comment.h"
#include "ufw_plan.h"
#include "user_rules_reader.h"

namespace netpol {

namespace {

using Kind = ir::Endpoint::Kind;

// "in", "out", "in on tun0", "route in on tun0", "route out on tun0", "route".
std::string direction_label(bool forward, const std::string& direction, const std::string& in, const std::string& out) {
  std::string label = forward ? "route" : direction;
  if (!in.empty()) label += std::string(forward ? " in on " : " on ") + in;
  if (!out.empty()) label += std::string(forward ? " out on " : " on ") + out;
  return label;
}

// ---- expected: straight from the flows ----------------------------------------------

class Expected {
 public:
  explicit Expected(const ir::Policy& p) : p_(p) {}

  std::vector<EnforcedRule> run() {
    for (std::size_t h = 0; h < p_.hosts.size(); ++h)
      if (p_.hosts[h].vmid) add_host(static_cast<int>(h));
    return std::move(out_);
  }

 private:
  void add_host(int vm) {
    std::optional<int> pool;
    for (const auto& v : p_.vpns)
      if (v.server == vm && !pool) pool = v.pool;
    const std::string tunnel = ufw::kVpnInterface;
    for (const auto& f : p_.flows) {
      if (f.proto == ir::Proto::icmp) continue;  // before.rules' business, see docs/targets/ufw.md
      bool from_pool = pool && in_zone(f.source, *pool);
      bool to_pool = pool && in_zone(f.destination, *pool);
      const auto& own = host(vm).addresses;
      if (stands_for(f.destination, vm))
        for (const auto& s : nets(f.source))
          for (const auto& a : own) add(vm, from_pool ? "in on " + tunnel : "in", s, a, f);
      if (stands_for(f.source, vm))
        for (const auto& a : own)
          for (const auto& d : nets(f.destination)) add(vm, "out", a, d, f);
      bool to_vm = f.destination.endpoint == ir::Endpoint{Kind::host, vm};
      bool from_vm = f.source.endpoint == ir::Endpoint{Kind::host, vm};
      if (from_pool && !to_vm) add_all(vm, "route in on " + tunnel, f);
      else if (to_pool && !from_vm) add_all(vm, "route out on " + tunnel, f);
    }
  }

  const ir::Host& host(int h) const { return p_.hosts[static_cast<std::size_t>(h)]; }

  bool stands_for(const ir::FlowEnd& end, int vm) const {
    if (end.endpoint.kind == Kind::host) return end.endpoint.id == vm;
    const auto& except = end.except_hosts;
    return end.endpoint.id == host(vm).zone && std::find(except.begin(), except.end(), vm) == except.end();
  }

  bool in_zone(const ir::FlowEnd& end, int zone) const {
    return end.endpoint.kind == Kind::zone ? end.endpoint.id == zone : host(end.endpoint.id).zone == zone;
  }

  const std::vector<Cidr>& nets(const ir::FlowEnd& end) {
    auto it = nets_.find(end);
    if (it == nets_.end()) it = nets_.emplace(end, disjoint_cidrs(address_set(p_, end))).first;
    return it->second;
  }

  void add_all(int vm, const std::string& direction, const ir::Flow& f) {
    for (const auto& s : nets(f.source))
      for (const auto& d : nets(f.destination)) add(vm, direction, s, d, f);
  }

  void add(int vm, const std::string& direction, const Cidr& src, const Cidr& dst, const ir::Flow& f) {
    if (src.family != dst.family) return;
    out_.push_back({"ufw/" + host(vm).name, direction, src, dst, f.proto, f.ports, rule_comment(p_, f.rule)});
  }

  const ir::Policy& p_;
  std::map<ir::FlowEnd, std::vector<Cidr>> nets_;
  std::vector<EnforcedRule> out_;
};

// ---- deployed: from the tuples ------------------------------------------------------

std::optional<std::vector<ir::PortRange>> parse_ports(const std::string& text) {
  if (text == "any") return std::vector<ir::PortRange>{{1, 65535}};
  std::vector<ir::PortRange> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    auto colon = item.find(':');
    try {
      std::size_t used = 0;
      int first = std::stoi(item.substr(0, colon), &used);
      if (used != item.substr(0, colon).size()) return std::nullopt;
      int last = first;
      if (colon != std::string::npos) {
        last = std::stoi(item.substr(colon + 1), &used);
        if (used != item.size() - colon - 1) return std::nullopt;
      }
      if (first < 1 || last > 65535 || first > last) return std::nullopt;
      out.push_back({static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last)});
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

void convert(const std::string& host, const std::string& file, const ufw::ReadRule& rr,
             std::vector<EnforcedRule>& out, std::vector<std::string>& errors) {
  const auto& r = rr.rule;
  std::string where = file + ":" + std::to_string(rr.line);
  auto refuse = [&](const std::string& why) { errors.push_back(where + ": " + why); };
  if (r.action == "deny" || r.action == "reject")
    return refuse("a '" + r.action + "' rule: drift compares allow rules only (a deny may hide the rules below it)");
  if (r.sport != "any") return refuse("a rule with source ports: drift does not compare source ports");
  auto ports = parse_ports(r.dport);
  if (!ports) return refuse("bad port list '" + r.dport + "'");
  std::vector<ir::Proto> protos;
  if (r.proto == "tcp") protos = {ir::Proto::tcp};
  else if (r.proto == "udp") protos = {ir::Proto::udp};
  else if (r.proto == "any") protos = {ir::Proto::tcp, ir::Proto::udp};
  else return refuse("protocol '" + r.proto + "': the policy can never allow it");
  auto src = parse_cidr(r.src).cidr, dst = parse_cidr(r.dst).cidr;  // checked by the reader
  std::string direction = direction_label(r.forward, r.direction, r.iface_in, r.iface_out);
  std::string origin = where + (r.comment.empty() ? "" : " " + r.comment);
  std::string point = "ufw/" + host;
  for (auto proto : protos)
    for (const auto& range : *ports) out.push_back({point, direction, *src, *dst, proto, range, origin});
  // Without ports, `proto any` also allows every ICMP type (and other protocols).
  if (r.proto == "any" && r.dport == "any") out.push_back({point, direction, *src, *dst, ir::Proto::icmp, {0, 255}, origin});
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::vector<EnforcedRule> ufw_expected(const ir::Policy& policy) { return Expected(policy).run(); }

std::vector<EnforcedRule> ufw_deployed_host(const std::string& host, const std::string& rules,
                                            const std::string& rules6, std::vector<std::string>& errors) {
  std::vector<EnforcedRule> out;
  for (bool v6 : {false, true}) {
    std::string file = host + (v6 ? ".rules6" : ".rules");
    auto read = ufw::read_user_rules(v6 ? rules6 : rules, v6, file);
    errors.insert(errors.end(), read.errors.begin(), read.errors.end());
    for (const auto& rr : read.rules) convert(host, file, rr, out, errors);
  }
  return out;
}

std::vector<EnforcedRule> ufw_deployed(const std::string& dir, std::vector<std::string>& errors) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    errors.push_back(dir + ": not a directory");
    return {};
  }
  std::set<std::string> hosts;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto ext = entry.path().extension().string();
    auto stem = entry.path().stem().string();
    // <host>.after.rules is a Docker host's after.rules block: not a user.rules.
    bool after_block = ext == ".rules" && stem.size() > 6 && stem.ends_with(".after");
    if (entry.is_regular_file() && (ext == ".rules" || ext == ".rules6") && !after_block) hosts.insert(stem);
  }
  std::vector<EnforcedRule> out;
  for (const auto& host : hosts) {
    std::vector<std::string> host_errors;
    auto rules = read_file(fs::path(dir) / (host + ".rules"));
    auto rules6 = read_file(fs::path(dir) / (host + ".rules6"));
    if (!rules) host_errors.push_back(host + ".rules: missing (a copy of the VM's /etc/ufw/user.rules)");
    if (!rules6) host_errors.push_back(host + ".rules6: missing (a copy of the VM's /etc/ufw/user6.rules)");
    auto found = ufw_deployed_host(host, rules.value_or("*filter\n### RULES ###\n### END RULES ###\nCOMMIT\n"),
                                   rules6.value_or("*filter\n### RULES ###\n### END RULES ###\nCOMMIT\n"), host_errors);
    out.insert(out.end(), found.begin(), found.end());
    for (const auto& e : host_errors) errors.push_back(dir + "/" + e);
  }
  return out;
}

}  // namespace netpol
