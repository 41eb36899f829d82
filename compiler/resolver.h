#pragma once
// The resolver's insides, shared by resolve.cpp (declarations, names, ports),
// resolve_topology.cpp (zones, addresses, hosts) and resolve_flows.cpp (rules,
// VPNs, published names). Only those three files include it.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ast.h"
#include "diagnostics.h"
#include "ir.h"
#include "source.h"

namespace netpol::resolver {

using ir::Endpoint;

enum class Kind { zone, host, service, vpn };
std::string kind_name(Kind k);

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

  ir::Policy run(const ast::Policy& policy);

 private:
  ir::Location location(Span span) const;

  // A note only where there is a place to show.
  static void note(Diagnostic& d, Span span, std::string message);

  // ---- declarations ----------------------------------------------------------

  bool check_name(const ast::Name& n);

  bool add_symbol(const ast::Name& n, Kind kind, int index);

  void declare(const ast::ZoneDecl& z);

  void declare(const ast::HostDecl& h);

  void declare(const ast::ServiceDecl& s);

  void declare(const ast::VpnDecl& v) { add_symbol(v.name, Kind::vpn, static_cast<int>(vpn_count_++)); }
  void declare(const ast::AddressDecl&) {}
  void declare(const ast::RuleDecl&) {}
  void declare(const ast::PublishDecl&) {}

  // ---- lookups -----------------------------------------------------------------

  std::vector<std::string> names_of(std::initializer_list<Kind> kinds) const;

  // The symbol of one of `kinds`, or an error (unknown, with a suggestion; or wrong kind).
  const Symbol* lookup(const ast::Name& n, std::initializer_list<Kind> kinds, const std::string& wanted);

  std::optional<int> zone(const ast::Name& n);

  std::optional<int> host(const ast::Name& n);

  // Zones and hosts; `any` is every zone.
  std::vector<Endpoint> endpoints(const std::vector<ast::Name>& names, bool& ok);

  // ---- ports ---------------------------------------------------------------------

  std::vector<ir::ServicePort> ports(const ast::PortSpec& spec);

  std::vector<ir::RuleService> services(const std::vector<ast::ServiceRef>& refs, bool& ok);

  // ---- zones, addresses, hosts ----------------------------------------------------------

  void resolve_parent(const ast::ZoneDecl& z);

  void check_zone_cycles();

  void assign_addresses(const ast::AddressDecl& a);

  bool is_ancestor(int ancestor, int zone) const;

  void check_zones();

  // The zone an address belongs to: the most specific network that holds it.
  std::optional<int> owner(const Cidr& address) const;

  void check_hosts();

  // ---- rules, VPNs, published names (in policy order) ------------------------------------

  void flows(const ast::RuleDecl& r);

  // A service that must be exactly one port (a VPN's listener, a published backend).
  std::optional<ir::ServicePort> single_port(const ast::ServiceRef& ref, bool tcp_only, std::optional<int>* service_id,
                                             const std::string& what);

  void flows(const ast::VpnDecl& v);

  void flows(const ast::PublishDecl& p);

  bool check_domain(const ast::Name& d);

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

}  // namespace netpol::resolver
