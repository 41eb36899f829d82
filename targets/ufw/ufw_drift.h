#pragma once
// Drift for the UFW target (see targets/common/drift.h). Points are "ufw/<host>";
// directions are "in", "out", and on a VPN server "in on tun0", "route in on tun0",
// "route out on tun0": the interface is part of what a rule allows. A Docker host's
// after.rules block is not in user.rules and not compared (docs/targets/ufw.md).
// ICMP is not compared: ufw has no ICMP rules (docs/targets/ufw.md).
#include <string>
#include <vector>

#include "drift.h"
#include "ir.h"

namespace netpol {

// What every VM's ufw must allow, computed from the IR's flows (not from the emitter).
std::vector<EnforcedRule> ufw_expected(const ir::Policy& policy);

// What the files in `dir` allow. Layout: DIR/<host>.rules and DIR/<host>.rules6, a
// copy of the VM's /etc/ufw/user.rules and user6.rules (exactly what netpolc emits
// as out/ufw/<host>.rules{,6}). Problems (a missing file, a body that does not match
// its tuple, a rule drift cannot compare) are added to `errors`.
std::vector<EnforcedRule> ufw_deployed(const std::string& dir, std::vector<std::string>& errors);

// The same for one host's two files, already read.
std::vector<EnforcedRule> ufw_deployed_host(const std::string& host, const std::string& rules,
                                            const std::string& rules6, std::vector<std::string>& errors);

}  // namespace netpol
