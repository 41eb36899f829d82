#pragma once
#include "diagnostics.h"
#include "ir.h"
#include "output_set.h"
#include "target_options.h"

namespace netpol {

void emit_openvpn(const ir::Policy& policy, const TargetOptions& options, OutputSet& out, Diagnostics& diags);

}  // namespace netpol
