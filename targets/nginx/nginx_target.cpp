#include "nginx_target.h"

namespace netpol {

void emit_nginx(const ir::Policy&, OutputSet&, Diagnostics&) {}  // being written (issue 4)

}  // namespace netpol
