#pragma once
#include "diagnostics.h"
#include "ir.h"
#include "output_set.h"

namespace netpol {

void emit_npm(const ir::Policy& policy, OutputSet& out, Diagnostics& diags);

}  // namespace netpol
