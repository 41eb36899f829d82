#pragma once
// Every target, in one list: each reads only the IR and adds its files.
// To add a target: a folder under targets/, a function here, a line in targets.cpp.
#include "diagnostics.h"
#include "ir.h"
#include "output_set.h"
#include "target_options.h"

namespace netpol {

void emit_all_targets(const ir::Policy& policy, const TargetOptions& options, OutputSet& out, Diagnostics& diags);

}  // namespace netpol
