#pragma once
// The Proxmox VE firewall: out/proxmox/cluster.fw, host.fw, <vmid>.fw.
#include "diagnostics.h"
#include "ir.h"
#include "output_set.h"

namespace netpol {

void emit_proxmox(const ir::Policy& policy, OutputSet& out, Diagnostics& diags);

}  // namespace netpol
