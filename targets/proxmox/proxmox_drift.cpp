#include "proxmox_drift.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "address_sets.h"
#include "comment.h"
#include "proxmox_facts.h"
#include "proxmox_reader.h"
#include "proxmox_sets.h"

namespace netpol {

using namespace proxmox;

// ---- expected: from the IR ------------------------------------------------------------

namespace {

void expect(std::vector<EnforcedRule>& out, const std::string& point, const std::string& direction,
            const std::vector<Cidr>& sources, const std::vector<Cidr>& destinations, const ir::Flow& flow,
            const std::string& origin) {
  for (const auto& s : sources)
    for (const auto& d : destinations)
      if (s.family == d.family) out.push_back({point, direction, s, d, flow.proto, flow.ports, origin});
}

}  // namespace

std::vector<EnforcedRule> proxmox_expected(const ir::Policy& policy) {
  std::vector<EnforcedRule> out;
  for (std::size_t h = 0; h < policy.hosts.size(); ++h) {
    const auto& host = policy.hosts[h];
    if (!host.vmid && !host.is_node) continue;
    std::string point = host.vmid ? "proxmox/" + std::to_string(*host.vmid) + ".fw" : "proxmox/host.fw";
    for (const auto& flow : policy.flows) {
      auto origin = rule_comment(policy, flow.rule);
      int id = static_cast<int>(h);
      if (covers(policy, flow.destination, id) && !is_host(flow.source, id))
        expect(out, point, "in", exact_networks(policy, flow.source), host.addresses, flow, origin);
      if (host.vmid && covers(policy, flow.source, id) && !is_host(flow.destination, id))
        expect(out, point, "out", host.addresses, exact_networks(policy, flow.destination), flow, origin);
    }
  }
  return out;
}

// ---- deployed: from the files ---------------------------------------------------------

namespace {

// A set of packets one rule matches in one family: networks x networks x one protocol's ports.
struct Box {
  Cidr source, destination;
  ir::Proto proto = ir::Proto::tcp;
  ir::PortRange ports;
};

bool disjoint(const ir::PortRange& a, const ir::PortRange& b) { return a.last < b.first || b.last < a.first; }

// a minus b, as boxes. Networks either nest or are disjoint, so their overlap is the longer one.
std::vector<Box> minus(const Box& a, const Box& b) {
  if (a.proto != b.proto || a.source.family != b.source.family || !a.source.overlaps(b.source) ||
      !a.destination.overlaps(b.destination) || disjoint(a.ports, b.ports))
    return {a};
  std::vector<Box> out;
  for (const auto& s : subtract({a.source}, {b.source})) out.push_back({s, a.destination, a.proto, a.ports});
  Cidr s_in = a.source.prefix >= b.source.prefix ? a.source : b.source;
  for (const auto& d : subtract({a.destination}, {b.destination})) out.push_back({s_in, d, a.proto, a.ports});
  Cidr d_in = a.destination.prefix >= b.destination.prefix ? a.destination : b.destination;
  if (a.ports.first < b.ports.first)
    out.push_back({s_in, d_in, a.proto, {a.ports.first, static_cast<std::uint16_t>(b.ports.first - 1)}});
  if (a.ports.last > b.ports.last)
    out.push_back({s_in, d_in, a.proto, {static_cast<std::uint16_t>(b.ports.last + 1), a.ports.last}});
  return out;
}

// What an ipset matches in one family: the longest matching entry decides, so
// entries are applied from the shortest prefix to the longest.
std::vector<Cidr> ipset_networks(const std::vector<FwIpsetEntry>& entries, Family f) {
  std::vector<FwIpsetEntry> of_family;
  for (const auto& e : entries)
    if (e.cidr.family == f) of_family.push_back(e);
  std::stable_sort(of_family.begin(), of_family.end(),
                   [](const FwIpsetEntry& a, const FwIpsetEntry& b) { return a.cidr.prefix < b.cidr.prefix; });
  std::vector<Cidr> result;
  for (const auto& e : of_family) {
    if (e.nomatch) {
      result = subtract(result, {e.cidr});
    } else if (std::none_of(result.begin(), result.end(), [&](const Cidr& c) { return c.contains(e.cidr); })) {
      std::erase_if(result, [&](const Cidr& c) { return e.cidr.contains(c); });
      result.push_back(e.cidr);
    }
  }
  std::sort(result.begin(), result.end());
  return result;
}

struct Chain {
  std::string point, direction;
  std::vector<Cidr> own;  // the addresses a rule's omitted own side stands for
  struct Entry {
    const FwRule* rule;
    const FwFile* file;  // where its ipsets and guest aliases live
    std::string origin;
  };
  std::vector<Entry> entries;
  std::string policy;       // ACCEPT, DROP, REJECT
  std::string policy_origin;
};

class DeployedReader {
 public:
  explicit DeployedReader(std::vector<std::string>& errors) : errors_(errors) {}
  std::vector<EnforcedRule> run(const std::map<std::string, std::string>& files);

 private:
  std::optional<FwFile> read(const std::map<std::string, std::string>& files, const std::string& name, FwKind kind);
  void add_entries(Chain& chain, const FwFile& file, const std::string& name, const std::string& direction);
  std::vector<Cidr> own_addresses(const FwFile& guest) const;
  std::vector<Box> boxes(const FwRule& rule, const FwFile& file, const Chain& chain, bool accept, const std::string& origin);
  std::vector<Cidr> side(const FwAddress& a, const FwFile& file, Family f, bool own_side, const Chain& chain);
  std::vector<std::pair<ir::Proto, ir::PortRange>> services(const FwRule& rule, Family f, bool accept, const std::string& origin);
  void apply(const Chain& chain, std::vector<EnforcedRule>& out);
  void note(const std::string& origin, const std::string& message) { errors_.push_back(origin + ": " + message); }

  std::vector<std::string>& errors_;
  std::optional<FwFile> cluster_;
};

std::optional<FwFile> DeployedReader::read(const std::map<std::string, std::string>& files, const std::string& name,
                                           FwKind kind) {
  auto it = files.find(name);
  if (it == files.end()) return std::nullopt;
  auto result = read_fw(it->second, kind, "proxmox/" + name, cluster_ ? &*cluster_ : nullptr);
  errors_.insert(errors_.end(), result.errors.begin(), result.errors.end());
  return std::move(result.file);
}

std::vector<EnforcedRule> DeployedReader::run(const std::map<std::string, std::string>& files) {
  std::vector<EnforcedRule> out;
  cluster_ = read(files, "cluster.fw", FwKind::cluster);
  if (!cluster_) {
    errors_.push_back("proxmox/cluster.fw: missing");
    return out;
  }
  auto option = [](const FwFile& f, const char* key, const char* fallback) {
    auto it = f.options.find(key);
    return it == f.options.end() ? std::string(fallback) : it->second;
  };
  if (option(*cluster_, "enable", "0") != "1")
    errors_.push_back("proxmox/cluster.fw: the firewall is off (no 'enable: 1'): nothing is enforced");
  if (auto host = read(files, "host.fw", FwKind::host)) {
    if (option(*host, "enable", "1") == "0") errors_.push_back("proxmox/host.fw: 'enable: 0': the node is not filtered");
    Chain in{"proxmox/host.fw", "in", {any_network(Family::v4), any_network(Family::v6)}, {}, option(*cluster_, "policy_in", "DROP"),
             "proxmox/cluster.fw policy_in"};
    add_entries(in, *host, "host.fw", "in");
    add_entries(in, *cluster_, "cluster.fw", "in");  // cluster [RULES] apply to the node, after host.fw
    apply(in, out);
  }
  for (const auto& [name, text] : files) {
    if (name == "cluster.fw" || name == "host.fw") continue;
    auto stem = name.substr(0, name.size() - 3);
    if (name.size() <= 3 || name.substr(name.size() - 3) != ".fw" || stem.empty() ||
        !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      errors_.push_back("proxmox/" + name + ": not a Proxmox firewall file (cluster.fw, host.fw, <vmid>.fw)");
      continue;
    }
    auto guest = read(files, name, FwKind::guest);
    if (option(*guest, "enable", "0") != "1")
      errors_.push_back("proxmox/" + name + ": no 'enable: 1': the VM's NIC is not filtered");
    auto own = own_addresses(*guest);
    for (const char* direction : {"in", "out"}) {
      bool in = std::string(direction) == "in";
      Chain chain{"proxmox/" + name, direction, own, {}, option(*guest, in ? "policy_in" : "policy_out", in ? "DROP" : "ACCEPT"),
                  "proxmox/" + name + (in ? " policy_in" : " policy_out")};
      add_entries(chain, *guest, name, direction);
      apply(chain, out);
    }
  }
  return out;
}

// The chain's rules in order, GROUP rules replaced by the group's rules of that direction.
void DeployedReader::add_entries(Chain& chain, const FwFile& file, const std::string& name, const std::string& direction) {
  for (const auto& r : file.rules) {
    if (!r.enabled) continue;
    if (r.type == "group") {
      auto g = cluster_->groups.find(r.action);
      if (g == cluster_->groups.end()) continue;  // the reader reported it
      for (const auto& gr : g->second)
        if (gr.enabled && gr.type == direction)
          chain.entries.push_back({&gr, &*cluster_, "proxmox/cluster.fw:" + std::to_string(gr.line)});
    } else if (r.type == direction) {
      chain.entries.push_back({&r, &file, "proxmox/" + name + ":" + std::to_string(r.line)});
    }
  }
}

// netpolc names a VM's aliases after its group: <g>, <g>-v4, <g>-v6, <g>-v4-<n>, <g>-v6-<n>.
bool alias_of_group(const std::string& alias, const std::string& group) {
  if (alias == group) return true;
  for (const char* family : {"-v4", "-v6"}) {
    auto base = group + family;
    if (alias == base) return true;
    if (alias.rfind(base + "-", 0) != 0 || alias.size() == base.size() + 1) continue;
    auto n = alias.substr(base.size() + 1);
    if (std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;
  }
  return false;
}

std::vector<Cidr> DeployedReader::own_addresses(const FwFile& guest) const {
  std::vector<Cidr> own;
  for (const auto& r : guest.rules) {
    if (r.type != "group" || !r.enabled) continue;
    for (const auto& [name, address] : cluster_->aliases)
      if (alias_of_group(name, r.action)) own.push_back(address);
  }
  if (own.empty()) return {any_network(Family::v4), any_network(Family::v6)};
  return own;
}

std::vector<Cidr> DeployedReader::side(const FwAddress& a, const FwFile& file, Family f, bool own_side, const Chain& chain) {
  std::vector<Cidr> out;
  if (a.kind == FwAddress::Kind::none) {
    if (!own_side) return {any_network(f)};
    for (const auto& c : chain.own)
      if (c.family == f) out.push_back(c);
    return out;
  }
  if (a.kind == FwAddress::Kind::ipset) {
    if (const auto* entries = find_ipset(a, file, &*cluster_)) return ipset_networks(*entries, f);
    return out;
  }
  for (const auto& c : a.networks)
    if (c.family == f) out.push_back(c);
  return out;
}

std::vector<std::pair<ir::Proto, ir::PortRange>> DeployedReader::services(const FwRule& rule, Family f, bool accept,
                                                                          const std::string& origin) {
  using Service = std::pair<ir::Proto, ir::PortRange>;
  const ir::PortRange all_ports{0, 65535}, all_types{0, 255};
  if (rule.proto.empty()) return {{ir::Proto::tcp, all_ports}, {ir::Proto::udp, all_ports}, {ir::Proto::icmp, all_types}};
  if (rule.proto == "tcp" || rule.proto == "udp") {
    auto proto = rule.proto == "tcp" ? ir::Proto::tcp : ir::Proto::udp;
    if (rule.dports.empty()) return {{proto, all_ports}};
    std::vector<Service> out;
    for (const auto& r : rule.dports) out.push_back({proto, r});
    return out;
  }
  bool icmp = (rule.proto == "icmp" && f == Family::v4) || (rule.proto == "icmpv6" && f == Family::v6);
  if (!icmp) {
    if (accept) note(origin, "protocol '" + rule.proto + "' is not modelled: this ACCEPT is not compared");
    return {};
  }
  if (rule.icmp_type.empty() || rule.icmp_type == "any") return {{ir::Proto::icmp, all_types}};
  auto type = f == Family::v4 ? icmp_v4_type(rule.icmp_type) : icmp_v6_to_ir(rule.icmp_type);
  if (type) return {{ir::Proto::icmp, {*type, *type}}};
  if (icmp_code_known(rule.icmp_type, f)) {  // a part of destination-unreachable
    note(origin, "icmp code '" + rule.icmp_type + "' is not modelled: read as " +
                     std::string(accept ? "all of destination-unreachable" : "nothing dropped"));
    if (accept) return {{ir::Proto::icmp, {3, 3}}};
    return {};
  }
  note(origin, "icmpv6 type '" + rule.icmp_type + "' has no counterpart in the policy language: not compared");
  return {};
}

std::vector<Box> DeployedReader::boxes(const FwRule& rule, const FwFile& file, const Chain& chain, bool accept,
                                       const std::string& origin) {
  // What the model cannot narrow is widened for an ACCEPT and ignored for a DROP,
  // so drift never hides something allowed.
  if (!rule.iface.empty() || !rule.sports.empty()) {
    note(origin, std::string(!rule.iface.empty() ? "-i" : "-sport") + " is not modelled: read as " +
                     (accept ? "matching every interface and source port" : "dropping nothing"));
    if (!accept) return {};
  }
  std::vector<Family> fams;
  for (Family f : {Family::v4, Family::v6}) {
    bool pinned_other = (rule.source.family && *rule.source.family != f) || (rule.dest.family && *rule.dest.family != f) ||
                        (rule.proto == "icmp" && f != Family::v4) || (rule.proto == "icmpv6" && f != Family::v6);
    if (!pinned_other) fams.push_back(f);
  }
  bool in = chain.direction == "in";
  std::vector<Box> out;
  for (Family f : fams) {
    auto sources = side(rule.source, file, f, !in, chain);
    auto destinations = side(rule.dest, file, f, in, chain);
    for (const auto& [proto, ports] : services(rule, f, accept, origin))
      for (const auto& s : sources)
        for (const auto& d : destinations) out.push_back({s, d, proto, ports});
  }
  return out;
}

void DeployedReader::apply(const Chain& chain, std::vector<EnforcedRule>& out) {
  std::vector<Box> dropped;
  auto accept = [&](std::vector<Box> allowed, const std::string& origin) {
    for (const auto& d : dropped) {
      std::vector<Box> next;
      for (const auto& b : allowed) {
        auto pieces = minus(b, d);
        next.insert(next.end(), pieces.begin(), pieces.end());
      }
      allowed = std::move(next);
    }
    for (const auto& b : allowed) out.push_back({chain.point, chain.direction, b.source, b.destination, b.proto, b.ports, origin});
  };
  for (const auto& e : chain.entries) {
    bool is_accept = e.rule->action == "ACCEPT";
    auto matched = boxes(*e.rule, *e.file, chain, is_accept, e.origin);
    if (is_accept) accept(std::move(matched), e.origin);
    else dropped.insert(dropped.end(), matched.begin(), matched.end());
  }
  if (chain.policy != "ACCEPT") return;
  FwRule everything;  // the policy: any source, any destination, every protocol
  accept(boxes(everything, *cluster_, chain, true, chain.policy_origin), chain.policy_origin + " ACCEPT");
}

}  // namespace

std::vector<EnforcedRule> proxmox_deployed_files(const std::map<std::string, std::string>& files,
                                                 std::vector<std::string>& errors) {
  return DeployedReader(errors).run(files);
}

std::vector<EnforcedRule> proxmox_deployed(const std::string& dir, std::vector<std::string>& errors) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    auto name = entry.path().filename().string();
    if (!entry.is_regular_file() || entry.path().extension() != ".fw") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    files[name] = text.str();
  }
  if (ec) errors.push_back(dir + ": " + ec.message());
  return proxmox_deployed_files(files, errors);
}

}  // namespace netpol
