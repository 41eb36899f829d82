#include "resolve.h"

#include <algorithm>
#include <filesystem>
#include <regex>

#include "diagnostic_codes.h"
#include "icmp_types.h"

#include "resolver.h"

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

ir::Policy resolve(const ast::Policy& policy, const SourceSet& sources, Diagnostics& diags) {
  return resolver::Resolver(sources, diags).run(policy);
}

}  // namespace netpol

namespace netpol::resolver {

namespace {
// Words that mean something where a name stands (statement keywords never do).
const std::set<std::string, std::less<>> kReserved = {"any", "tcp", "udp", "icmp"};

// Fits every target: Proxmox groups (18 chars), ipsets, OpenVPN CNs, shell words, nft names.
const std::regex kNamePattern("^[a-z][a-z0-9_-]{1,17}$");
const std::regex kInterfacePattern("^[a-z][a-z0-9_]{1,14}$");
}  // namespace

std::string kind_name(Kind k) {
  switch (k) {
    case Kind::zone: return "zone";
    case Kind::host: return "host";
    case Kind::service: return "service";
    case Kind::vpn: return "vpn";
  }
  return "?";
}

ir::Policy Resolver::run(const ast::Policy& policy) {
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

ir::Location Resolver::location(Span span) const {
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

void Resolver::note(Diagnostic& d, Span span, std::string message) {
  if (span.valid()) d.notes.push_back({span, std::move(message)});
}

bool Resolver::check_name(const ast::Name& n) {
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

bool Resolver::add_symbol(const ast::Name& n, Kind kind, int index) {
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

void Resolver::declare(const ast::ZoneDecl& z) {
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

void Resolver::declare(const ast::HostDecl& h) {
  ir::Host host;
  host.name = h.name.text;
  host.location = location(h.span);
  host.is_node = h.is_node;
  host.docker = h.docker;
  for (const auto& f : h.compose_files) {
    // Relative to the declaring file's folder, as includes are; kept relative to the entry's folder.
    const auto from = std::filesystem::path(sources_.file(f.span.file).relative_path).parent_path();
    host.compose_files.push_back({(from / f.text).lexically_normal().string(), location(f.span)});
  }
  if (h.vmid) {
    if (*h.vmid < 100 || *h.vmid > 999'999'999)
      diags_.error(code::kBadNumber, h.vmid_span,
                   "VM id " + std::string(sources_.text(h.vmid_span)) + " is out of range (Proxmox uses 100 to 999999999)");
    else
      host.vmid = static_cast<int>(*h.vmid);
  }
  if (add_symbol(h.name, Kind::host, static_cast<int>(out_.hosts.size()))) {
    out_.hosts.push_back(std::move(host));
    host_decls_.push_back(&h);
  }
}

void Resolver::declare(const ast::ServiceDecl& s) {
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

std::vector<std::string> Resolver::names_of(std::initializer_list<Kind> kinds) const {
  std::vector<std::string> out;
  for (const auto& [name, sym] : symbols_)
    if (std::find(kinds.begin(), kinds.end(), sym.kind) != kinds.end()) out.push_back(name);
  return out;
}

const Symbol* Resolver::lookup(const ast::Name& n, std::initializer_list<Kind> kinds, const std::string& wanted) {
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

std::optional<int> Resolver::zone(const ast::Name& n) {
  auto* s = lookup(n, {Kind::zone}, "zone");
  return s ? std::optional<int>(s->index) : std::nullopt;
}

std::optional<int> Resolver::host(const ast::Name& n) {
  auto* s = lookup(n, {Kind::host}, "host");
  return s ? std::optional<int>(s->index) : std::nullopt;
}

std::vector<Endpoint> Resolver::endpoints(const std::vector<ast::Name>& names, bool& ok) {
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

std::vector<ir::ServicePort> Resolver::ports(const ast::PortSpec& spec) {
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

std::vector<ir::RuleService> Resolver::services(const std::vector<ast::ServiceRef>& refs, bool& ok) {
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

}  // namespace netpol::resolver
