#include "npm_target.h"

namespace netpol {

void emit_npm(const ir::Policy&, OutputSet&, Diagnostics&) {}  // being written (issue 4)

}  // namespace netpol
