#pragma once
// The UFW inside each VM: out/ufw/<host>.rules, .rules6, .sh.
#include "diagnostics.h"
#include "ir.h"
#include "output_set.h"

namespace netpol {

void emit_ufw(const ir::Policy& policy, OutputSet& out, Diagnostics& diags);

}  // namespace netpol
