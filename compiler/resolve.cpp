#include "resolve.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "diagnostic_codes.h"
#include "icmp_types.h"

namespace netpol {

std::string one_line(std::string_view text) {
  std::string out;
  bool in_comment = false;
  bool blank = false;
  for (char c : text) {
    if (c == '\n') in_comment = false;
    if (in_comment) continue;
    if (c == '#') {
      in_comment = true;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

namespace {

using ir::Endpoint;

// Words that mean something where a name stands (statement keywords never do).
const std::set<std::string, std::less<>> kReserved = {"any", "tcp", "udp", "icmp"};

// Fits every target: Proxmox groups (18 chars), ipsets, OpenVPN CNs, shell words, nft names.
const std::regex kNamePattern("^[a-z][a-z0-9_-]{1,17}$");
const std::regex kInterfacePattern("^[a-z][a-z0-9_]{1,14}$");
const std::regex kDomainLabel("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$");

enum class Kind { zone, host, service, vpn };

std::string kind_name(Kind k) {
  switch (k) {
    case Kind::zone: return "zone";
    case Kind::host: return "host";
    case Kind::service: return "service";
    case Kind::vpn: return "vpn";
  }
  return "?";
}

struct Symbol {
  Kind kind;
  int index;
  Span span;
};

struct AddressSpans {  // where each address of a zone or host was written
  std::vector<Span> spans;
  Span statement;
};

class Resolver {
 public:
  Resolver(const SourceSet& sources, Diagnostics& diags) : sources_(sources), diags_(diags) {}

  ir::Policy run(const ast::Policy& policy) {
    for (const auto& s : policy.statements) std::visit([&](const auto& d) { declare(d); }, s);
    for (const auto& s : policy.statements)
      if (auto* z = std::get_if<ast::ZoneDecl>(&s)) resolve_parent(*z);
    check_zone_cycles();
    for (const auto& s : policy.statements)
      if (auto* a = std::get_if<ast::AddressDecl>(&s)) assign_addresses(*a);
    check_zones();
    check_hosts();
    for (const auto& s : policy.statements) std::visit([&](const auto& d) { flows(d); }, s);
    for (auto& z : out_.zones) std::sort(z.networks.begin(), z.networks.end());
    for (auto& h : out_.hosts) std::sort(h.addresses.begin(), h.addresses.end());
    return std::move(out_);
  }

 private:
  ir::Location location(Span span) const {
    ir::Location loc;
    loc.span = span;
    if (!span.valid()) return loc;
    const auto& f = sources_.file(span.file);
    auto lc = f.position(span.begin);
    loc.file = f.relative_path;
    loc.line = lc.line;
    loc.column = lc.column;
    return loc;
  }

  // A note only where there is a place to show.
  static void note(Diagnostic& d, Span span, std::string message) {
    if (span.valid()) d.notes.push_back({span, std::move(message)});
  }

  // ---- declarations ----------------------------------------------------------

  bool check_name(const ast::Name& n) {
    if (kReserved.count(n.text)) {
      diags_.error(code::kReservedName, n.span, "'" + n.text + "' is a keyword and cannot be used as a name");
      return false;
    }
    if (!std::regex_match(n.text, kNamePattern)) {
      auto& d = diags_.error(code::kBadName, n.span, "invalid name '" + n.text + "'");
      d.hints.push_back(
          "names are 2 to 18 characters: a lower-case letter, then lower-case letters, digits, '-' or '_' "
          "(they must fit every target: Proxmox groups, OpenVPN names, shell words)");
      return false;
    }
    return true;
  }

  bool add_symbol(const ast::Name& n, Kind kind, int index) {
    check_name(n);
    auto [it, inserted] = symbols_.emplace(n.text, Symbol{kind, index, n.span});
    if (!inserted) {
      auto& d = diags_.error(code::kDuplicate, n.span,
                             "'" + n.text + "' is already defined (as a " + kind_name(it->second.kind) + ")");
      d.notes.push_back({it->second.span, "first defined here"});
      return false;
    }
    return true;
  }

  void declare(const ast::ZoneDecl& z) {
    ir::Zone zone;
    zone.name = z.name.text;
    zone.location = location(z.span);
    if (z.bridge) {
      zone.bridge = z.bridge->text;
      if (!std::regex_match(zone.bridge, kInterfacePattern)) {
        auto& d = diags_.error(code::kBadInterface, z.bridge->span, "invalid bridge name '" + zone.bridge + "'");
        d.hints.push_back("interface names are 2 to 15 characters: a lower-case letter, then lower-case letters, "
                          "digits or '_' (Proxmox refuses '-')");
      }
    }
    if (add_symbol(z.name, Kind::zone, static_cast<int>(out_.zones.size()))) {
      out_.zones.push_back(std::move(zone));
      zone_decls_.push_back(&z);
    }
  }

  void declare(const ast::HostDecl& h) {
    ir::Host host;
    host.name = h.name.text;
    host.location = location(h.span);
    host.is_node = h.is_node;
    if (h.vmid) {
      if (*h.vmid < 100 || *h.vmid > 999'999'999)
        diags_.error(code::kBadNumber, h.vmid_span,
                     "VM id " + std::to_string(*h.vmid) + " is out of range (Proxmox uses 100 to 999999999)");
      else
        host.vmid = static_cast<int>(*h.vmid);
    }
    if (add_symbol(h.name, Kind::host, static_cast<int>(out_.hosts.size()))) {
      out_.hosts.push_back(std::move(host));
      host_decls_.push_back(&h);
    }
  }

  void declare(const ast::ServiceDecl& s) {
    ir::Service service;
    service.name = s.name.text;
    service.location = location(s.span);
    int errors = diags_.error_count();
    for (const auto& spec : s.specs)
      for (auto& p : ports(spec)) service.ports.push_back(p);
    if (diags_.error_count() > errors) broken_services_.insert(static_cast<int>(out_.services.size()));
    if (add_symbol(s.name, Kind::service, static_cast<int>(out_.services.size())))
      out_.services.push_back(std::move(service));
  }

  void declare(const ast::VpnDecl& v) { add_symbol(v.name, Kind::vpn, static_cast<int>(vpn_count_++)); }
  void declare(const ast::AddressDecl&) {}
  void declare(const ast::RuleDecl&) {}
  void declare(const ast::PublishDecl&) {}

  // ---- lookups -----------------------------------------------------------------

  std::vector<std::string> names_of(std::initializer_list<Kind> kinds) const {
    std::vector<std::string> out;
    for (const auto& [name, sym] : symbols_)
      if (std::find(kinds.begin(), kinds.end(), sym.kind) != kinds.end()) out.push_back(name);
    return out;
  }

  // The symbol of one of `kinds`, or an error (unknown, with a suggestion; or wrong kind).
  const Symbol* lookup(const ast::Name& n, std::initializer_list<Kind> kinds, const std::string& wanted) {
    auto it = symbols_.find(n.text);
    if (it == symbols_.end()) {
      auto& d = diags_.error(code::kUnknownName, n.span, "unknown " + wanted + " '" + n.text + "'");
      auto suggestion = closest_name(n.text, names_of(kinds));
      if (!suggestion.empty()) d.hints.push_back("did you mean '" + suggestion + "'?");
      return nullptr;
    }
    if (std::find(kinds.begin(), kinds.end(), it->second.kind) == kinds.end()) {
      auto& d = diags_.error(code::kWrongKind, n.span,
                             "'" + n.text + "' is a " + kind_name(it->second.kind) + ", not a " + wanted);
      d.notes.push_back({it->second.span, "'" + n.text + "' is defined here"});
      return nullptr;
    }
    return &it->second;
  }

  std::optional<int> zone(const ast::Name& n) {
    auto* s = lookup(n, {Kind::zone}, "zone");
    return s ? std::optional<int>(s->index) : std::nullopt;
  }

  std::optional<int> host(const ast::Name& n) {
    auto* s = lookup(n, {Kind::host}, "host");
    return s ? std::optional<int>(s->index) : std::nullopt;
  }

  // Zones and hosts; `any` is every zone.
  std::vector<Endpoint> endpoints(const std::vector<ast::Name>& names, bool& ok) {
    std::vector<Endpoint> out;
    for (const auto& n : names) {
      if (n.text == "any") {
        for (std::size_t i = 0; i < out_.zones.size(); ++i)
          out.push_back({Endpoint::Kind::zone, static_cast<int>(i)});
        continue;
      }
      auto* s = lookup(n, {Kind::zone, Kind::host}, "zone or host");
      if (!s) {
        ok = false;
        continue;
      }
      out.push_back({s->kind == Kind::zone ? Endpoint::Kind::zone : Endpoint::Kind::host, s->index});
    }
    return out;
  }

  // ---- ports ---------------------------------------------------------------------

  std::vector<ir::ServicePort> ports(const ast::PortSpec& spec) {
    std::vector<ir::ServicePort> out;
    if (spec.proto == "icmp") {
      ir::ServicePort p{ir::Proto::icmp, {0, kIcmpTypeMax}};
      if (spec.icmp_type) {
        auto number = icmp_type_number(spec.icmp_type->text);
        if (!number) {
          auto& d = diags_.error(code::kBadIcmpType, spec.icmp_type->span,
                                 "unknown ICMP type '" + spec.icmp_type->text + "'");
          auto suggestion = closest_name(spec.icmp_type->text, icmp_type_names());
          if (!suggestion.empty()) d.hints.push_back("did you mean '" + suggestion + "'?");
          return out;
        }
        p.range = {*number, *number};
      }
      out.push_back(p);
      return out;
    }
    auto proto = spec.proto == "tcp" ? ir::Proto::tcp : ir::Proto::udp;
    for (const auto& r : spec.ports) {
      for (long v : {r.first, r.last}) {
        if (v < 1 || v > 65535) {
          diags_.error(code::kBadPort, r.span,
                       (v > 999'999 ? std::string("port number") : "port " + std::to_string(v)) +
                           " is out of range (1-65535)");
          goto next;
        }
      }
      if (r.first > r.last) {
        diags_.error(code::kBadPort, r.span,
                     "port range " + std::to_string(r.first) + "-" + std::to_string(r.last) +
                         " is reversed (write the lower port first)");
        continue;
      }
      out.push_back({proto, {static_cast<std::uint16_t>(r.first), static_cast<std::uint16_t>(r.last)}});
    next:;
    }
    return out;
  }

  std::vector<ir::RuleService> services(const std::vector<ast::ServiceRef>& refs, bool& ok) {
    std::vector<ir::RuleService> out;
    for (const auto& ref : refs) {
      if (auto* spec = std::get_if<ast::PortSpec>(&ref.ref)) {
        for (auto& p : ports(*spec)) out.push_back({std::nullopt, p});
        continue;
      }
      const auto& n = std::get<ast::Name>(ref.ref);
      if (n.text == "any") {
        out.push_back({std::nullopt, {ir::Proto::tcp, {1, 65535}}});
        out.push_back({std::nullopt, {ir::Proto::udp, {1, 65535}}});
        out.push_back({std::nullopt, {ir::Proto::icmp, {0, kIcmpTypeMax}}});
        continue;
      }
      auto* s = lookup(n, {Kind::service}, "service");
      if (!s) {
        ok = false;
        continue;
      }
      for (const auto& p : out_.services[static_cast<std::size_t>(s->index)].ports) out.push_back({s->index, p});
    }
    return out;
  }

  // ---- zones, addresses, hosts ----------------------------------------------------------

  void resolve_parent(const ast::ZoneDecl& z) {
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

  void check_zone_cycles() {
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

  void assign_addresses(const ast::AddressDecl& a) {
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

  bool is_ancestor(int ancestor, int zone) const {
    for (auto p = out_.zones[static_cast<std::size_t>(zone)].parent; p; p = out_.zones[static_cast<std::size_t>(*p)].parent)
      if (*p == ancestor) return true;
    return false;
  }

  void check_zones() {
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

  // The zone an address belongs to: the most specific network that holds it.
  std::optional<int> owner(const Cidr& address) const {
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

  void check_hosts() {
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

  // ---- rules, VPNs, published names (in policy order) ------------------------------------

  void flows(const ast::RuleDecl& r) {
    bool ok = true;
    auto src = endpoints(r.sources, ok);
    auto dst = endpoints(r.destinations, ok);
    auto svc = services(r.services, ok);
    if (!ok) return;
    auto text = one_line(sources_.text(r.span));
    if (r.kind == ast::RuleKind::never) {
      out_.invariants.push_back({std::move(src), std::move(dst), std::move(svc), location(r.span), std::move(text)});
      return;
    }
    ir::Rule rule;
    rule.action = r.kind == ast::RuleKind::allow ? ir::Action::allow : ir::Action::deny;
    rule.sources = std::move(src);
    rule.destinations = std::move(dst);
    rule.services = std::move(svc);
    rule.location = location(r.span);
    rule.text = std::move(text);
    out_.rules.push_back(std::move(rule));
  }

  // A service that must be exactly one port (a VPN's listener, a published backend).
  std::optional<ir::ServicePort> single_port(const ast::ServiceRef& ref, bool tcp_only, std::optional<int>* service_id,
                                             const std::string& what) {
    bool ok = true;
    auto list = services({ref}, ok);
    if (!ok) return std::nullopt;
    if (auto* n = std::get_if<ast::Name>(&ref.ref)) {
      auto it = symbols_.find(n->text);
      if (it != symbols_.end() && it->second.kind == Kind::service && broken_services_.count(it->second.index))
        return std::nullopt;  // its port error is reported already
    }
    bool single = list.size() == 1 && list[0].port.proto != ir::Proto::icmp &&
                  list[0].port.range.first == list[0].port.range.last;
    if (!single || (tcp_only && list[0].port.proto != ir::Proto::tcp)) {
      auto& d = diags_.error(code::kPublishPort, ref.span(),
                             what + " needs a service of exactly one " + (tcp_only ? "tcp port" : "tcp or udp port"));
      if (!list.empty()) {
        std::string all;
        for (const auto& s : list) all += (all.empty() ? "" : ", ") + s.port.str();
        d.hints.push_back("it has: " + all);
      }
      return std::nullopt;
    }
    if (service_id) *service_id = list[0].service;
    return list[0].port;
  }

  void flows(const ast::VpnDecl& v) {
    ir::Vpn vpn;
    vpn.name = v.name.text;
    vpn.location = location(v.span);
    bool ok = true;
    if (auto s = host(v.server)) vpn.server = *s;
    else ok = false;
    if (!v.listen) {
      diags_.error(code::kVpnIncomplete, v.span, "vpn '" + vpn.name + "' needs 'listen SERVICE from ZONES'");
      ok = false;
    } else if (auto p = single_port(*v.listen, false, nullptr, "a VPN's listener")) {
      vpn.listen = *p;
    } else {
      ok = false;
    }
    vpn.listen_from = endpoints(v.listen_from, ok);
    if (!v.pool) {
      diags_.error(code::kVpnIncomplete, v.span, "vpn '" + vpn.name + "' needs 'pool ZONE' (the clients' zone)");
      ok = false;
    } else if (auto z = zone(*v.pool)) {
      vpn.pool = *z;
      const auto& nets = out_.zones[static_cast<std::size_t>(*z)].networks;
      auto v4 = std::count_if(nets.begin(), nets.end(), [](const Cidr& c) { return c.family == Family::v4; });
      auto v6 = static_cast<long>(nets.size()) - v4;
      if (broken_zones_.count(*z)) {
        ok = false;  // its address error is reported already
      } else if (v4 != 1 || v6 > 1 || out_.zones[static_cast<std::size_t>(*z)].catch_all) {
        diags_.error(code::kVpnPool, v.pool->span,
                     "the VPN pool zone '" + v.pool->text + "' must be one IPv4 network (and at most one IPv6 network)");
        ok = false;
      }
    } else {
      ok = false;
    }
    vpn.routes = endpoints(v.routes, ok);
    if (!ok) return;
    int index = static_cast<int>(out_.vpns.size());
    out_.vpns.push_back(vpn);
    ir::Rule rule;
    rule.origin = ir::Origin::vpn;
    rule.origin_index = index;
    rule.sources = vpn.listen_from;
    rule.destinations = {{Endpoint::Kind::host, vpn.server}};
    rule.services = {{std::nullopt, vpn.listen}};
    rule.location = vpn.location;
    rule.text = "vpn " + vpn.name + " on " + out_.hosts[static_cast<std::size_t>(vpn.server)].name + ": listen " +
                vpn.listen.str();
    out_.rules.push_back(std::move(rule));
  }

  void flows(const ast::PublishDecl& p) {
    ir::Publish pub;
    pub.domain = p.domain.text;
    pub.location = location(p.span);
    pub.tls = p.tls;
    pub.websocket = p.websocket;
    bool ok = check_domain(p.domain);
    if (auto [it, inserted] = domains_.emplace(p.domain.text, p.domain.span); !inserted) {
      auto& d = diags_.error(code::kDuplicateDomain, p.domain.span, "'" + p.domain.text + "' is already published");
      d.notes.push_back({it->second, "published here"});
      ok = false;
    }
    if (auto h = host(p.proxy)) pub.proxy = *h;
    else ok = false;
    if (auto h = host(p.backend)) pub.backend = *h;
    else ok = false;
    std::optional<int> service_id;
    if (auto port = single_port({p.service}, true, &service_id, "a published backend")) {
      pub.backend_port = *port;
      pub.service = service_id.value_or(-1);
    } else {
      ok = false;
    }
    if (p.from.empty()) {
      auto& d = diags_.error(code::kNobodyMayUse, p.span, "published name '" + pub.domain + "' says nobody may use it");
      d.hints.push_back("add the zones allowed to use it: { from lan, vpn }");
      ok = false;
    }
    pub.from = endpoints(p.from, ok);
    pub.listen_port = {ir::Proto::tcp, pub.tls ? ir::PortRange{443, 443} : ir::PortRange{80, 80}};
    if (!ok) return;
    int index = static_cast<int>(out_.publishes.size());
    out_.publishes.push_back(pub);
    // A published name is two flows: clients to the proxy, the proxy to the backend.
    std::string text = one_line(sources_.text(p.span));
    ir::Rule to_proxy;
    to_proxy.origin = ir::Origin::publish;
    to_proxy.origin_index = index;
    to_proxy.sources = pub.from;
    to_proxy.destinations = {{Endpoint::Kind::host, pub.proxy}};
    to_proxy.services = {{std::nullopt, pub.listen_port}};
    to_proxy.location = pub.location;
    to_proxy.text = text;
    ir::Rule to_backend = to_proxy;
    to_backend.sources = {{Endpoint::Kind::host, pub.proxy}};
    to_backend.destinations = {{Endpoint::Kind::host, pub.backend}};
    to_backend.services = {{service_id, pub.backend_port}};
    out_.rules.push_back(std::move(to_proxy));
    out_.rules.push_back(std::move(to_backend));
  }

  bool check_domain(const ast::Name& d) {
    std::string text = d.text;
    std::string why;
    if (text.size() > 253) why = "it is longer than 253 characters";
    std::string rest = text.rfind("*.", 0) == 0 ? text.substr(2) : text;
    if (why.empty() && rest.find('.') == std::string::npos) why = "it needs at least two labels (name.example)";
    std::size_t start = 0;
    while (why.empty() && start <= rest.size()) {
      auto dot = rest.find('.', start);
      auto label = rest.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (!std::regex_match(label, kDomainLabel))
        why = "the label '" + label + "' is not 1-63 lower-case letters, digits and inner '-'";
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (why.empty()) return true;
    diags_.error(code::kBadDomain, d.span, "invalid published name '" + text + "': " + why);
    return false;
  }

  void flows(const ast::AddressDecl&) {}
  void flows(const ast::ZoneDecl&) {}
  void flows(const ast::HostDecl&) {}
  void flows(const ast::ServiceDecl&) {}

  const SourceSet& sources_;
  Diagnostics& diags_;
  ir::Policy out_;
  std::map<std::string, Symbol, std::less<>> symbols_;
  std::vector<const ast::ZoneDecl*> zone_decls_;
  std::vector<const ast::HostDecl*> host_decls_;
  std::map<int, AddressSpans> zone_addresses_;
  std::map<int, AddressSpans> host_addresses_;
  std::map<std::string, Span> domains_;
  std::size_t vpn_count_ = 0;
  std::set<int> broken_zones_;     // already reported: unresolved parent, bad or missing address
  std::set<int> broken_services_;  // already reported: a bad port
};

}  // namespace

ir::Policy resolve(const ast::Policy& policy, const SourceSet& sources, Diagnostics& diags) {
  return Resolver(sources, diags).run(policy);
}

}  // namespace netpol
