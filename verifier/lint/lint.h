#pragma once
// The policy lint of `netpolc check` (issue 5): findings about the rules as written,
// beyond what the compiler must reject. Reads only the IR; adds diagnostics with the
// codes of lint_codes.h (docs/diagnostics.md, "W8xx: the policy lint").
//
// The packets a rule matches are (source atom, destination atom, protocol, port), atoms as
// in the matrix (compiler/matrix.h: each host, and the rest of each zone), keeping only
// atom pairs that can exchange a packet: a shared address family, and not a host to itself.
#include "diagnostics.h"
#include "ir.h"

namespace netpol {

// Adds every lint finding for `policy` (resolved; flows need not be set). Call it only
// when resolution found no error (Compilation::checked).
void lint_policy(const ir::Policy& policy, Diagnostics& diags);

}  // namespace netpol
