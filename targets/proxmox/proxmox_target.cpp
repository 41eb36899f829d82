#include "proxmox_target.h"

namespace netpol {

void emit_proxmox(const ir::Policy&, OutputSet&, Diagnostics&) {}  // TODO(issue 3): being written

}  // namespace netpol
