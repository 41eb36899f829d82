#include "ufw_target.h"

namespace netpol {

void emit_ufw(const ir::Policy&, OutputSet&, Diagnostics&) {}  // TODO(issue 3): being written

}  // namespace netpol
