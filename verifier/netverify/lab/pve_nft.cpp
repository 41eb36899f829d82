// Renders pve-firewall's semantics (shared/formats.md 1.8) as nftables; the why of each
// choice is in docs/lab-proxmox-nft.md.
#include "pve_nft.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "proxmox/proxmox_facts.h"
#include "proxmox/proxmox_reader.h"

namespace netpol::live {
namespace {

using proxmox::FwAddress;
using proxmox::FwFile;
using proxmox::FwIpsetEntry;
using proxmox::FwKind;
using proxmox::FwRule;

// Packet mark bits (the whole mark belongs to this ruleset in the node's namespace).
constexpr std::uint32_t kInPortMask = 0x000000ff;   // index of the guest port the frame came from
constexpr std::uint32_t kOutPortMask = 0x0000ff00;  // index of the guest port it is bridged to
constexpr std::uint32_t kEstablished = 0x00010000;  // conntrack said established/related (for the bridge table)
constexpr std::uint32_t kGroupAccept = 0x00020000;  // a security group accepted (pve's accept mark)
constexpr int kMaxPorts = 255;

std::string hex(std::uint32_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

// Where a chain is rendered: the inet table has conntrack and reject, the bridge table has
// neither (this kernel has no bridge conntrack nor bridge reject), so there conntrack state
// arrives as kEstablished and REJECT becomes drop.
enum class Table { inet, bridge };
enum class Dir { in, out };

const char* dir_name(Dir d) { return d == Dir::in ? "in" : "out"; }

struct SetDef {
  Family family = Family::v4;
  std::vector<Cidr> elements;
};

// One table being rendered: its sets (declared before the chains that use them) and chains.
struct TableText {
  std::map<std::string, SetDef> sets;
  std::ostringstream chains;
};

// --- ipsets -------------------------------------------------------------------------------

Cidr half(const Cidr& c, bool upper) {
  Cidr h = c;
  h.prefix = c.prefix + 1;
  if (upper) h.bytes[static_cast<std::size_t>(c.prefix / 8)] |= static_cast<std::uint8_t>(0x80u >> (c.prefix % 8));
  return h;
}

// `region` minus every network in `holes`, as networks.
void subtract(const Cidr& region, const std::vector<Cidr>& holes, std::vector<Cidr>& out) {
  bool overlapped = false;
  for (const auto& h : holes) {
    if (h.contains(region)) return;
    if (h.overlaps(region)) overlapped = true;
  }
  if (!overlapped) {
    out.push_back(region);
    return;
  }
  subtract(half(region, false), holes, out);
  subtract(half(region, true), holes, out);
}

// Kernel ipsets decide by the most specific entry: an address matches when the longest
// entry holding it is not `!`. Rendered as "in the positive set and not in the effective
// nomatch set", where the effective nomatch set is every address whose longest entry is `!`.
void paint_nomatch(const Cidr& region, bool nomatch, const std::vector<FwIpsetEntry>& entries,
                   std::vector<Cidr>& out) {
  std::vector<const FwIpsetEntry*> inside;
  for (const auto& e : entries)
    if (region.contains(e.cidr) && e.cidr != region) inside.push_back(&e);
  std::vector<const FwIpsetEntry*> children;  // the largest entries inside the region
  for (const auto* e : inside) {
    bool nested = std::any_of(inside.begin(), inside.end(),
                              [&](const FwIpsetEntry* o) { return o->cidr != e->cidr && o->cidr.contains(e->cidr); });
    if (!nested) children.push_back(e);
  }
  if (nomatch) {
    std::vector<Cidr> holes;
    for (const auto* c : children) holes.push_back(c->cidr);
    subtract(region, holes, out);
  }
  for (const auto* c : children) paint_nomatch(c->cidr, c->nomatch, entries, out);
}

struct IpsetSets {
  std::string positive, nomatch;  // nomatch empty when nothing is excluded
};

// Declares the nft sets of one ipset for one family and returns their names.
IpsetSets declare_ipset(TableText& table, const std::string& base, const std::vector<FwIpsetEntry>& all, Family f) {
  std::vector<FwIpsetEntry> entries;  // this family, first of duplicates
  for (const auto& e : all)
    if (e.cidr.family == f && std::none_of(entries.begin(), entries.end(), [&](auto& k) { return k.cidr == e.cidr; }))
      entries.push_back(e);
  std::string name = base + (f == Family::v4 ? "-v4" : "-v6");
  SetDef positive{f, {}};
  for (const auto& e : entries)
    if (!e.nomatch) positive.elements.push_back(e.cidr);
  table.sets[name] = positive;
  SetDef excluded{f, {}};
  for (const auto& e : entries) {
    bool top = std::none_of(entries.begin(), entries.end(),
                            [&](auto& o) { return o.cidr != e.cidr && o.cidr.contains(e.cidr); });
    if (top) paint_nomatch(e.cidr, e.nomatch, entries, excluded.elements);
  }
  if (excluded.elements.empty()) return {name, ""};
  table.sets[name + "-nomatch"] = excluded;
  return {name, name + "-nomatch"};
}

// --- one rule -----------------------------------------------------------------------------

struct Files {
  const FwFile* cluster = nullptr;
  std::string local_network_text;
  std::optional<Cidr> local_network;
};

// What a chain is for: which file's objects a rule may name, and how ACCEPT is spelt.
struct Scope {
  const FwFile* file = nullptr;   // the rule's own file (guest ipsets, guest aliases)
  int vmid = 0;                   // 0 for host and cluster
  Table table = Table::inet;
  Dir dir = Dir::in;
  bool in_group = false;          // ACCEPT inside a group sets kGroupAccept and returns
  std::string file_name;          // "cluster.fw", for comments
};

std::string family_word(Family f) { return f == Family::v4 ? "ip" : "ip6"; }

// "ip saddr 198.18.1.0/24" etc.; nullopt when the address cannot match in family `f`.
std::optional<std::string> address_match(const FwAddress& a, bool source, Family f, const Scope& scope,
                                         const Files& files, TableText& table) {
  const std::string field = family_word(f) + (source ? " saddr " : " daddr ");
  switch (a.kind) {
    case FwAddress::Kind::none:
      return std::string();
    case FwAddress::Kind::alias:
    case FwAddress::Kind::list: {
      std::vector<std::string> items;
      for (const auto& n : a.networks)
        if (n.family == f) items.push_back(n.str(true));
      if (items.empty()) return std::nullopt;
      if (items.size() == 1) return field + items[0];
      std::string joined;
      for (const auto& i : items) joined += (joined.empty() ? "" : ", ") + i;
      return field + "{ " + joined + " }";
    }
    case FwAddress::Kind::ipset: {
      const auto* entries = proxmox::find_ipset(a, *scope.file, files.cluster);
      if (!entries) return std::nullopt;  // the reader has reported it
      bool from_cluster = files.cluster && scope.file != files.cluster && files.cluster->ipsets.count(a.name) &&
                          &files.cluster->ipsets.at(a.name) == entries;
      bool cluster_file = scope.file == files.cluster;
      std::string base = (from_cluster || cluster_file) ? "dc-" + a.name : "g" + std::to_string(scope.vmid) + "-" + a.name;
      auto sets = declare_ipset(table, base, *entries, f);
      std::string m = field + "@" + sets.positive;
      if (!sets.nomatch.empty()) m += " " + field + "!= @" + sets.nomatch;
      return m;
    }
  }
  return std::nullopt;
}

std::string port_list(const std::vector<ir::PortRange>& ports) {
  std::vector<std::string> items;
  for (const auto& p : ports)
    items.push_back(p.first == p.last ? std::to_string(p.first)
                                      : std::to_string(p.first) + "-" + std::to_string(p.last));
  if (items.size() == 1) return items[0];
  std::string joined;
  for (const auto& i : items) joined += (joined.empty() ? "" : ", ") + i;
  return "{ " + joined + " }";
}

// The -icmp-type names the reader accepts: types keep their name in nft; codes belong to
// destination-unreachable.
std::string icmp_match(const std::string& proto, const std::string& type) {
  bool v4 = proto == "icmp";
  std::string word = v4 ? "icmp" : "icmpv6";
  std::string m = v4 ? "meta l4proto icmp" : "meta l4proto ipv6-icmp";
  if (type.empty() || type == "any") return m;
  if (proxmox::icmp_code_known(type, v4 ? Family::v4 : Family::v6))
    return word + " type destination-unreachable " + word + " code " + type;
  return word + " type " + type;
}

std::string proto_match(const FwRule& r) {
  if (r.proto.empty()) return "";
  if (r.proto == "icmp" || r.proto == "icmpv6") return icmp_match(r.proto, r.icmp_type);
  if (r.dports.empty() && r.sports.empty()) return "meta l4proto " + r.proto;
  std::string m;
  if (!r.dports.empty()) m += r.proto + " dport " + port_list(r.dports);
  if (!r.sports.empty()) m += (m.empty() ? "" : " ") + r.proto + " sport " + port_list(r.sports);
  return m;
}

std::string join(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts)
    if (!p.empty()) out += (out.empty() ? "" : " ") + p;
  return out;
}

// The nft verdicts that ACCEPT, DROP or REJECT become in this scope (REJECT may need two
// rules: a TCP reset for tcp, an ICMP port-unreachable for the rest, as pve-firewall does).
std::vector<std::string> verdicts(const std::string& action, const std::string& proto, const Scope& scope) {
  if (action == "ACCEPT")
    return {scope.in_group ? "meta mark set meta mark | " + hex(kGroupAccept) + " return" : "return"};
  if (action == "DROP" || scope.table == Table::bridge) return {"drop"};
  if (proto == "tcp") return {"reject with tcp reset"};
  if (!proto.empty()) return {"reject with icmpx type port-unreachable"};
  return {"meta l4proto tcp reject with tcp reset", "reject with icmpx type port-unreachable"};
}

std::string comment(const Scope& scope, int line, const std::string& what = "") {
  std::string c = scope.file_name + ":" + std::to_string(line) + (what.empty() ? "" : " " + what);
  return " comment \"" + c + "\"";
}

// The families a rule must be written for; {} = one rule for both (no address, no icmp).
std::vector<std::optional<Family>> rule_families(const FwRule& r) {
  std::optional<Family> pinned = r.source.family ? r.source.family : r.dest.family;
  if (r.proto == "icmp") pinned = Family::v4;
  if (r.proto == "icmpv6") pinned = Family::v6;
  if (pinned) return {pinned};
  bool ipset = r.source.kind == FwAddress::Kind::ipset || r.dest.kind == FwAddress::Kind::ipset;
  if (!ipset) return {std::nullopt};
  return {Family::v4, Family::v6};
}

// The rules of one IN/OUT/GROUP line; `iface` is the interface match already decided.
void render_rule(const FwRule& r, const std::string& iface, const Scope& scope, const Files& files,
                 TableText& table) {
  std::ostringstream& out = table.chains;
  if (r.type == "group") {
    std::string target = "grp-" + r.action + "-" + dir_name(scope.dir);
    out << "\t\t" << join({iface, "jump " + target}) << comment(scope, r.line, "GROUP " + r.action) << "\n";
    out << "\t\tmeta mark & " << hex(kGroupAccept) << " == " << hex(kGroupAccept) << " meta mark set meta mark & "
        << hex(~kGroupAccept) << " return" << comment(scope, r.line, "accepted by the group") << "\n";
    return;
  }
  for (const auto& fam : rule_families(r)) {
    std::string src, dst;
    if (fam) {
      auto s = address_match(r.source, true, *fam, scope, files, table);
      auto d = address_match(r.dest, false, *fam, scope, files, table);
      if (!s || !d) continue;  // an alias of the other family
      src = *s;
      dst = *d;
    }
    std::string matches = join({iface, src, dst, proto_match(r)});
    for (const auto& v : verdicts(r.action, r.proto, scope))
      out << "\t\t" << join({matches, v}) << comment(scope, r.line) << "\n";
  }
}

// --- chains -------------------------------------------------------------------------------

void render_policy(const std::string& policy, const std::string& what, const Scope& scope, TableText& table) {
  Scope s = scope;
  s.in_group = false;
  for (const auto& v : verdicts(policy, "", s))
    table.chains << "\t\t" << v << " comment \"" << what << " " << policy << "\"\n";
}

std::string option(const FwFile& f, const std::string& key, const std::string& fallback) {
  auto it = f.options.find(key);
  return it == f.options.end() ? fallback : it->second;
}

void render_groups(const Files& files, Table t, TableText& table) {
  for (const auto& [name, rules] : files.cluster->groups)
    for (Dir d : {Dir::in, Dir::out}) {
      if (t == Table::bridge && d == Dir::out) continue;  // OUT is always decided in inet
      Scope scope{files.cluster, 0, t, d, true, "cluster.fw"};
      table.chains << "\tchain grp-" << name << "-" << dir_name(d) << " {\n";
      for (const auto& r : rules)
        if (r.enabled && r.type == dir_name(d)) render_rule(r, "", scope, files, table);
      table.chains << "\t}\n";
    }
}

struct Guest {
  PveGuestPort port;
  int nic = 0;
  int index = 0;        // 1..255, the value in the mark
  const FwFile* file = nullptr;
};

// tap<vmid>i<N>-in / -out: the built-ins of 1.8, the guest's [RULES] for this NIC, the policy.
void render_guest_chain(const Guest& g, Dir d, Table t, const Files& files, TableText& table) {
  const FwFile& f = *g.file;
  Scope scope{&f, g.port.vmid, t, d, false, std::to_string(g.port.vmid) + ".fw"};
  auto& out = table.chains;
  out << "\tchain " << g.port.tap << "-" << dir_name(d) << " {\n";
  bool dhcp = option(f, "dhcp", "1") != "0", ndp = option(f, "ndp", "1") != "0";
  if (d == Dir::in) {
    if (dhcp) {
      out << "\t\tudp sport 67 udp dport 68 return comment \"DHCP reply (dhcp)\"\n";
      out << "\t\tudp sport 547 udp dport 546 return comment \"DHCPv6 reply (dhcp)\"\n";
    }
    if (ndp)
      out << "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, nd-redirect } return"
             " comment \"NDP (ndp)\"\n";
  } else {
    if (dhcp) {
      out << "\t\tudp sport 68 udp dport 67 return comment \"DHCP request (dhcp)\"\n";
      out << "\t\tudp sport 546 udp dport 547 return comment \"DHCPv6 request (dhcp)\"\n";
    }
    if (option(f, "radv", "0") != "1")
      out << "\t\ticmpv6 type nd-router-advert drop comment \"router advertisement from a guest (radv)\"\n";
    if (ndp)
      out << "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } return"
             " comment \"NDP (ndp)\"\n";
  }
  std::string nic = "net" + std::to_string(g.nic);
  for (const auto& r : f.rules) {
    if (!r.enabled || (r.type != dir_name(d) && r.type != "group")) continue;
    if (!r.iface.empty() && r.iface != nic) continue;  // -i netN: that NIC only
    render_rule(r, "", scope, files, table);
  }
  std::string key = d == Dir::in ? "policy_in" : "policy_out";
  render_policy(option(f, key, d == Dir::in ? "DROP" : "ACCEPT"), std::to_string(g.port.vmid) + ".fw " + key, scope,
                table);
  out << "\t}\n";
}

// host-in / host-out: host.fw rules, then cluster.fw rules, the implicit allowances, the policy.
void render_host_chain(Dir d, const FwFile* host, const Files& files, TableText& table) {
  auto& out = table.chains;
  out << "\tchain host-" << dir_name(d) << " {\n";
  const FwFile& cluster = *files.cluster;
  if (d == Dir::in && cluster.ipsets.count("blacklist")) {
    Scope scope{&cluster, 0, Table::inet, d, false, "cluster.fw"};
    FwRule r;
    r.type = "in";
    r.action = "DROP";
    r.source.kind = FwAddress::Kind::ipset;
    r.source.scope = "dc";
    r.source.name = "blacklist";
    r.line = cluster.ipsets.at("blacklist").empty() ? 0 : cluster.ipsets.at("blacklist").front().line;
    render_rule(r, "", scope, files, table);
  }
  auto rules_of = [&](const FwFile& f, const std::string& name) {
    Scope scope{&f, 0, Table::inet, d, false, name};
    for (const auto& r : f.rules) {
      if (!r.enabled || (r.type != dir_name(d) && r.type != "group")) continue;
      std::string iface = r.iface.empty() ? "" : std::string(d == Dir::in ? "iifname" : "oifname") + " \"" + r.iface + "\"";
      render_rule(r, iface, scope, files, table);
    }
  };
  if (host) rules_of(*host, "host.fw");
  rules_of(cluster, "cluster.fw");
  // The management ipset always holds local_network (formats.md 1.8).
  const auto& mgmt = proxmox::management_ports();
  std::vector<ir::PortRange> ports = d == Dir::in
      ? mgmt
      : std::vector<ir::PortRange>{{8006, 8006}, {22, 22}, {5900, 5999}, {3128, 3128}};
  std::string tcp = "tcp dport " + port_list(ports);
  if (files.local_network) {
    std::string fam = family_word(files.local_network->family);
    std::string net = files.local_network->str(true);
    out << "\t\t" << fam << (d == Dir::in ? " saddr " : " daddr ") << net << " " << tcp
        << " return comment \"management: local_network " << files.local_network_text << "\"\n";
    if (d == Dir::in)
      out << "\t\t" << fam << " saddr " << net << " " << fam << " daddr " << net
          << " udp dport 5404-5405 return comment \"corosync within local_network\"\n";
  }
  if (d == Dir::in && cluster.ipsets.count("management")) {
    FwRule r;
    r.type = "in";
    r.action = "ACCEPT";
    r.source.kind = FwAddress::Kind::ipset;
    r.source.scope = "dc";
    r.source.name = "management";
    r.proto = "tcp";
    r.dports = mgmt;
    Scope scope{&cluster, 0, Table::inet, d, false, "cluster.fw"};
    r.line = cluster.ipsets.at("management").empty() ? 0 : cluster.ipsets.at("management").front().line;
    render_rule(r, "", scope, files, table);
  }
  std::string key = d == Dir::in ? "policy_in" : "policy_out";
  Scope scope{&cluster, 0, Table::inet, d, false, "cluster.fw"};
  render_policy(option(cluster, key, d == Dir::in ? "DROP" : "ACCEPT"), "cluster.fw " + key, scope, table);
  out << "\t}\n";
}

std::string set_text(const std::string& name, const SetDef& s) {
  std::ostringstream out;
  out << "\tset " << name << " {\n\t\ttype " << (s.family == Family::v4 ? "ipv4_addr" : "ipv6_addr")
      << "\n\t\tflags interval\n\t\tauto-merge\n";
  if (!s.elements.empty()) {
    out << "\t\telements = { ";
    for (std::size_t i = 0; i < s.elements.size(); ++i) out << (i ? ", " : "") << s.elements[i].str(true);
    out << " }\n";
  }
  out << "\t}\n";
  return out.str();
}

std::string table_text(const std::string& family, TableText& t) {
  std::string out = "add table " + family + " netpol_pve\ndelete table " + family + " netpol_pve\ntable " + family +
                    " netpol_pve {\n";
  for (const auto& [name, s] : t.sets) out += set_text(name, s);
  return out + t.chains.str() + "}\n";
}

std::string mark_test(std::uint32_t mask, std::uint32_t value) {
  return "meta mark & " + hex(mask) + " == " + hex(value);
}

}  // namespace

PveNftResult render_pve_nft(const PveNftInput& input) {
  PveNftResult result;
  auto& errors = result.errors;
  auto cluster_read = proxmox::read_fw(input.cluster_fw, FwKind::cluster, "cluster.fw");
  errors.insert(errors.end(), cluster_read.errors.begin(), cluster_read.errors.end());
  const FwFile& cluster = cluster_read.file;

  std::optional<proxmox::FwRead> host_read;
  if (!input.host_fw.empty()) {
    host_read = proxmox::read_fw(input.host_fw, FwKind::host, "host.fw", &cluster);
    errors.insert(errors.end(), host_read->errors.begin(), host_read->errors.end());
  }
  std::map<int, proxmox::FwRead> guest_reads;
  for (const auto& [vmid, text] : input.guest_fw) {
    auto read = proxmox::read_fw(text, FwKind::guest, std::to_string(vmid) + ".fw", &cluster);
    errors.insert(errors.end(), read.errors.begin(), read.errors.end());
    guest_reads.emplace(vmid, std::move(read));
  }

  Files files;
  files.cluster = &cluster;
  if (cluster.aliases.count("local_network")) {
    files.local_network = cluster.aliases.at("local_network");
    files.local_network_text = files.local_network->str() + " (cluster alias)";
  } else if (!input.local_network.empty()) {
    auto parsed = parse_cidr(input.local_network);
    if (!parsed.cidr) errors.push_back("local_network '" + input.local_network + "': " + parsed.error);
    files.local_network = parsed.cidr;
    files.local_network_text = parsed.cidr ? parsed.cidr->str() : "";
  } else {
    files.local_network = parse_cidr("127.0.0.0/8").cidr;  // pve-firewall's fallback
    files.local_network_text = "127.0.0.0/8 (fallback)";
  }

  static const std::regex iface_name("[a-z][a-z0-9_]{1,14}");
  for (const auto& b : input.node_bridges)
    if (!std::regex_match(b, iface_name)) errors.push_back("node bridge '" + b + "': not an interface name");

  // Every group a rule jumps to must exist (pve-firewall would only warn and skip the jump).
  auto check_groups = [&](const FwFile& f, const std::string& name) {
    for (const auto& r : f.rules)
      if (r.enabled && r.type == "group" && !cluster.groups.count(r.action))
        errors.push_back(name + ":" + std::to_string(r.line) + ": no such security group '" + r.action + "'");
  };
  check_groups(cluster, "cluster.fw");
  if (host_read) check_groups(host_read->file, "host.fw");
  for (const auto& [vmid, read] : guest_reads) check_groups(read.file, std::to_string(vmid) + ".fw");

  // The filtered guest NICs: a .fw with enable: 1 (else pve-firewall lets everything pass).
  bool cluster_enabled = option(cluster, "enable", "0") == "1";
  std::vector<Guest> guests;
  static const std::regex port_name("(tap|veth)([0-9]{1,9})i([0-9]{1,4})");
  std::set<std::string> seen;
  for (const auto& p : input.ports) {
    std::smatch m;
    if (!std::regex_match(p.tap, m, port_name) || std::stoi(m[2].str()) != p.vmid) {
      errors.push_back("guest port '" + p.tap + "': expected tap" + std::to_string(p.vmid) + "i<N>");
      continue;
    }
    if (!seen.insert(p.tap).second) errors.push_back("guest port '" + p.tap + "' given twice");
    auto it = guest_reads.find(p.vmid);
    if (!cluster_enabled || it == guest_reads.end() || option(it->second.file, "enable", "0") != "1") continue;
    guests.push_back({p, std::stoi(m[3].str()), static_cast<int>(guests.size()) + 1, &it->second.file});
  }
  if (guests.size() > static_cast<std::size_t>(kMaxPorts)) errors.push_back("more than 255 filtered guest ports");
  if (!errors.empty()) return result;

  bool enabled = cluster_enabled;
  bool host_enabled = enabled && (!host_read || option(host_read->file, "enable", "1") != "0");
  const FwFile* host = host_read ? &host_read->file : nullptr;

  TableText inet, bridge;
  auto& ic = inet.chains;
  std::string est = "meta mark set meta mark | " + hex(kEstablished);
  ic << "\tchain pve-input {\n\t\ttype filter hook input priority filter; policy accept;\n";
  if (host_enabled) ic << "\t\tiif \"lo\" accept\n\t\tct state invalid drop\n";
  if (host_enabled || !guests.empty()) ic << "\t\tct state established,related accept\n";
  // A guest's packet to the node passes the guest's OUT chain first (its tap is bridged).
  for (const auto& g : guests)
    ic << "\t\t" << mark_test(kInPortMask, static_cast<std::uint32_t>(g.index)) << " jump " << g.port.tap
       << "-out\n";
  if (host_enabled) {
    if (!host || option(*host, "ndp", "1") != "0")
      ic << "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept"
            " comment \"NDP (host ndp)\"\n";
    ic << "\t\tmeta l4proto igmp accept\n\t\tjump host-in\n";
  }
  ic << "\t}\n";

  ic << "\tchain pve-output {\n\t\ttype filter hook output priority filter; policy accept;\n";
  if (host_enabled) {
    ic << "\t\toif \"lo\" accept\n\t\tct state invalid drop\n";
    ic << "\t\tct state established,related " << est << " accept\n";
    ic << "\t\tjump host-out\n";
  } else {
    ic << "\t\tct state established,related " << est << " accept\n";
  }
  ic << "\t}\n";

  ic << "\tchain pve-forward {\n\t\ttype filter hook forward priority filter; policy accept;\n";
  ic << "\t\tct state invalid drop\n\t\tct state established,related " << est << " accept\n";
  if (enabled && cluster.ipsets.count("blacklist")) {
    for (Family f : {Family::v4, Family::v6}) {
      auto sets = declare_ipset(inet, "dc-blacklist", cluster.ipsets.at("blacklist"), f);
      ic << "\t\t" << family_word(f) << " saddr @" << sets.positive;
      if (!sets.nomatch.empty()) ic << " " << family_word(f) << " saddr != @" << sets.nomatch;
      ic << " drop comment \"cluster.fw ipset blacklist\"\n";
    }
  }
  // The sender's OUT chain, then the receiver's IN chain (bridged); routed traffic and the
  // node's own reach the receiver's IN chain in the bridge table (it knows the port there).
  for (const auto& g : guests)
    ic << "\t\t" << mark_test(kInPortMask, static_cast<std::uint32_t>(g.index)) << " jump " << g.port.tap
       << "-out\n";
  for (const auto& g : guests)
    ic << "\t\t" << mark_test(kOutPortMask, static_cast<std::uint32_t>(g.index) << 8) << " jump " << g.port.tap
       << "-in\n";
  ic << "\t}\n";

  if (host_enabled) {
    render_host_chain(Dir::in, host, files, inet);
    render_host_chain(Dir::out, host, files, inet);
  }
  if (enabled) {
    render_groups(files, Table::inet, inet);
    render_groups(files, Table::bridge, bridge);
    for (const auto& g : guests) {
      render_guest_chain(g, Dir::out, Table::inet, files, inet);
      render_guest_chain(g, Dir::in, Table::inet, files, inet);
      render_guest_chain(g, Dir::in, Table::bridge, files, bridge);
    }
  }

  auto& bc = bridge.chains;
  bc << "\tchain port-in {\n\t\ttype filter hook prerouting priority -200; policy accept;\n";
  for (const auto& g : guests)
    bc << "\t\tiifname \"" << g.port.tap << "\" meta mark set meta mark & " << hex(~kInPortMask) << " | "
       << hex(static_cast<std::uint32_t>(g.index)) << "\n";
  bc << "\t}\n\tchain port-out {\n\t\ttype filter hook forward priority -200; policy accept;\n";
  for (const auto& g : guests)
    bc << "\t\toifname \"" << g.port.tap << "\" meta mark set meta mark & " << hex(~kOutPortMask) << " | "
       << hex(static_cast<std::uint32_t>(g.index) << 8) << "\n";
  // Frames the node itself sends into a guest port (routed between the bridges, or from the
  // node): the inet hooks ran before the port was known, so the receiver's IN chain runs here.
  bc << "\t}\n\tchain node-out {\n\t\ttype filter hook output priority 100; policy accept;\n";
  bc << "\t\tmeta protocol != { ip, ip6 } accept\n";
  bc << "\t\t" << mark_test(kEstablished, kEstablished) << " accept comment \"conntrack established,related (inet)\"\n";
  for (const auto& g : guests) bc << "\t\toifname \"" << g.port.tap << "\" jump " << g.port.tap << "-in\n";
  bc << "\t}\n";

  result.script = "# Proxmox VE firewall (pve-firewall semantics) as nftables: see docs/lab-proxmox-nft.md\n";
  if (!enabled) result.script += "# cluster.fw enable is not 1: pve-firewall compiles nothing, everything passes\n";
  result.script += table_text("inet", inet) + table_text("bridge", bridge);
  return result;
}

}  // namespace netpol::live
