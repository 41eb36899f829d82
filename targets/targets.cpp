#include "targets.h"

#include "matrix/policy_json.h"
#include "nginx/nginx_target.h"
#include "npm/npm_target.h"
#include "openvpn/openvpn_target.h"
#include "proxmox/proxmox_target.h"
#include "ufw/ufw_target.h"

namespace netpol {

void emit_all_targets(const ir::Policy& policy, const TargetOptions& options, OutputSet& out, Diagnostics& diags) {
  out["policy.json"] = policy_json(policy);
  emit_proxmox(policy, out, diags);  // proxmox/cluster.fw, host.fw, <vmid>.fw
  emit_ufw(policy, out, diags);      // ufw/<host>.rules, .rules6, .sh
  emit_npm(policy, out, diags);      // npm/proxy-hosts.json, npm/access-lists.json
  emit_nginx(policy, out, diags);    // nginx/<name>.conf
  emit_openvpn(policy, options, out, diags);  // openvpn/server.conf, openvpn/ccd/<client>
}

}  // namespace netpol
