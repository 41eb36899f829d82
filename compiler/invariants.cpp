#include "invariants.h"

#include <set>

#include "diagnostic_codes.h"

namespace netpol {

void check_invariants(const ir::Policy& policy, const Matrix& matrix, Diagnostics& diags) {
  for (const auto& inv : policy.invariants) {
    std::set<int> reported;  // one error per contradicting rule and invariant
    for (const auto& s : inv.sources) {
      for (const auto& d : inv.destinations) {
        for (const auto& svc : inv.services) {
          for (const auto& hit : matrix.allowed(s, d, svc.port)) {
            if (!reported.insert(hit.rule).second) continue;
            const auto& rule = policy.rules[static_cast<std::size_t>(hit.rule)];
            ir::ServicePort example{hit.proto, {hit.ports.first, hit.ports.first}};
            auto& diag = diags.error(code::kNeverViolated, rule.location.span,
                                     "this allows " + example.str() + " from " + policy.describe(hit.source) + " to " +
                                         policy.describe(hit.destination) + ", which an invariant forbids");
            diag.notes.push_back({inv.location.span, "the invariant: " + inv.text});
            diag.hints.push_back("narrow the allow, or put a matching 'deny' above it");
          }
        }
      }
    }
  }
}

}  // namespace netpol

namespace netpol {

namespace {
// The networks an endpoint stands for (a zone's own, not those of zones nested in it).
std::vector<Cidr> networks(const ir::Policy& p, const ir::Endpoint& e) {
  return e.kind == ir::Endpoint::Kind::zone ? p.zones[static_cast<std::size_t>(e.id)].networks
                                            : p.hosts[static_cast<std::size_t>(e.id)].addresses;
}

// Whether the routes pushed to VPN clients reach this destination: some network of
// it lies inside a routed network (a route to lan also reaches a zone nested in lan).
bool routed(const ir::Policy& p, const ir::Vpn& vpn, const ir::Endpoint& dst) {
  for (const auto& route : vpn.routes)
    for (const auto& r : networks(p, route))
      for (const auto& d : networks(p, dst))
        if (r.contains(d)) return true;
  return false;
}
bool in_pool(const ir::Policy& p, const ir::Vpn& vpn, const ir::Endpoint& e) {
  return e.kind == ir::Endpoint::Kind::host && p.hosts[static_cast<std::size_t>(e.id)].zone == vpn.pool;
}
}  // namespace

void check_vpn_routes(const ir::Policy& policy, Diagnostics& diags) {
  for (const auto& vpn : policy.vpns) {
    ir::Endpoint pool{ir::Endpoint::Kind::zone, vpn.pool};
    std::set<int> warned;
    for (const auto& f : policy.flows) {
      if (f.source.endpoint != pool || routed(policy, vpn, f.destination.endpoint)) continue;
      if (f.destination.endpoint == pool || in_pool(policy, vpn, f.destination.endpoint)) continue;  // client to client
      if (!warned.insert(f.rule).second) continue;
      const auto& rule = policy.rules[static_cast<std::size_t>(f.rule)];
      auto& d = diags.warning(code::kVpnUnrouted, rule.location.span,
                              "VPN clients may reach " + policy.name_of(f.destination.endpoint) + ", but vpn '" +
                                  vpn.name + "' pushes no route to it");
      d.notes.push_back({vpn.location.span, "the VPN's routes are set here"});
      d.hints.push_back("add it to the VPN's routes: route " + policy.name_of(f.destination.endpoint));
    }
  }
}

}  // namespace netpol
