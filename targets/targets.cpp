#include "targets.h"

#include "matrix/policy_json.h"
#include "proxmox/proxmox_target.h"
#include "ufw/ufw_target.h"

namespace netpol {

void emit_all_targets(const ir::Policy& policy, OutputSet& out, Diagnostics& diags) {
  out["policy.json"] = policy_json(policy);
  emit_proxmox(policy, out, diags);  // proxmox/cluster.fw, host.fw, <vmid>.fw
  emit_ufw(policy, out, diags);      // ufw/<host>.rules, .rules6, .sh
}

}  // namespace netpol
