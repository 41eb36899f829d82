#include "invariants.h"

#include <set>

#include "diagnostic_codes.h"

namespace netpol {

namespace {
std::string describe(const ir::Policy& p, const ir::FlowEnd& end) {
  std::string out = p.name_of(end.endpoint);
  if (!end.except_hosts.empty()) {
    out += " (other than";
    for (std::size_t i = 0; i < end.except_hosts.size(); ++i)
      out += (i ? ", " : " ") + p.hosts[static_cast<std::size_t>(end.except_hosts[i])].name;
    out += ")";
  }
  return out;
}
}  // namespace

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
                                     "this allows " + example.str() + " from " + describe(policy, hit.source) + " to " +
                                         describe(policy, hit.destination) + ", which an invariant forbids");
            diag.notes.push_back({inv.location.span, "the invariant: " + inv.text});
            diag.hints.push_back("narrow the allow, or put a matching 'deny' above it");
          }
        }
      }
    }
  }
}

}  // namespace netpol
