#pragma once
// The policy a run proves: read and checked as `netpolc check` does; on errors they are printed
// (file:line:col, caret) and the run stops before touching the network.
#include <memory>
#include <string>

#include "pipeline.h"

namespace netpol::live {

// The checked compilation, or nullptr after printing its errors to stderr.
std::unique_ptr<Compilation> load_checked_policy(const std::string& path);

}  // namespace netpol::live
