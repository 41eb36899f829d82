#pragma once
// `never` invariants: every allowed flow of the matrix is held against them; an
// allow that contradicts one is an error with a concrete counter-example.
#include "diagnostics.h"
#include "ir.h"
#include "matrix.h"

namespace netpol {

void check_invariants(const ir::Policy& policy, const Matrix& matrix, Diagnostics& diags);

// A VPN flow to a destination the VPN pushes no route to can never happen (W600).
void check_vpn_routes(const ir::Policy& policy, Diagnostics& diags);

}  // namespace netpol
