#pragma once
// out/policy.json: the resolved matrix (every allowed flow with the rule it comes
// from) and the resolved objects, for people, CI and other tools.
#include <string>

#include "ir.h"

namespace netpol {

std::string policy_json(const ir::Policy& policy);

}  // namespace netpol
