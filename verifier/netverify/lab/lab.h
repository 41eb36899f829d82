#pragma once
// `netverify lab POLICY`: the node built from the policy in namespaces, the compiled targets applied
// with the real tools, listeners on every probed port, the probe run from every zone, through the
// proxy and through the VPN, each enforcement layer also alone; then the report and the teardown.
#include <string>

#include "report_options.h"

namespace netpol::live::lab {

struct LabOptions {
  RunOptions run;
  bool keep = false;           // leave the lab up (then `netverify lab down`)
  bool layers = true;          // also prove the node's firewall alone and the VMs' firewalls alone
  std::string edit_compiled;   // a program run as `PROGRAM OUTDIR` before the output is applied (tests' mistakes)
  std::string workdir;         // default: a fresh /tmp/nv-lab-XXXXXX
  // "" as compiled; "tcp-reset" or "icmp": every firewall rejects what it would drop (the node's
  // policies and DROP rules become REJECT, the VMs' ufw defaults `reject`; "icmp" makes the node
  // answer admin-prohibited even to TCP), to prove the verdicts do not depend on silence.
  std::string reject;
};

// The lab's namespaces all start with this.
inline constexpr const char* kLabPrefix = "nv-lab-";

// Returns the exit code: 0 proven, 1 violation, 2 error, 3 inconclusive cells remain.
int run_lab(const LabOptions& options);

// Removes every namespace, process and link a lab left (`netverify lab down`). Returns what it removed.
std::vector<std::string> lab_down();

}  // namespace netpol::live::lab
