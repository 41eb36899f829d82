#include "openvpn_target.h"

namespace netpol {

void emit_openvpn(const ir::Policy&, const TargetOptions&, OutputSet&, Diagnostics&) {}  // being written (issue 4)

}  // namespace netpol
