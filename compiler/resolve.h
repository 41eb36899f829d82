#pragma once
// AST -> IR: resolves every name, checks addresses and topology, turns rules,
// VPNs and published names into IR rules (in policy order). The resolved matrix
// itself is computed afterwards by matrix.h.
#include "ast.h"
#include "diagnostics.h"
#include "ir.h"
#include "source.h"

namespace netpol {

ir::Policy resolve(const ast::Policy& policy, const SourceSet& sources, Diagnostics& diags);

// The statement as one line: comments removed, blanks collapsed.
std::string one_line(std::string_view text);

}  // namespace netpol
