#pragma once
// `never` invariants: every allowed flow of the matrix is held against them; an
// allow that contradicts one is an error with a concrete counter-example.
#include "diagnostics.h"
#include "ir.h"
#include "matrix.h"

namespace netpol {

void check_invariants(const ir::Policy& policy, const Matrix& matrix, Diagnostics& diags);

}  // namespace netpol
