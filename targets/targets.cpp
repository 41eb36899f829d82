#include "targets.h"

#include "matrix/policy_json.h"

namespace netpol {

void emit_all_targets(const ir::Policy& policy, OutputSet& out, Diagnostics& /*diags*/) {
  out["policy.json"] = policy_json(policy);
}

}  // namespace netpol
