#pragma once
// Holds a compose file's ports against the policy (the resolved matrix and the `never`
// invariants) for the host it runs on. Findings are Diagnostics with compose-file spans
// (compose_codes.h); every port also gets a report row, so the output says why each is fine.
#include <string>
#include <vector>

#include "compose_reader.h"
#include "diagnostics.h"
#include "ir.h"
#include "matrix.h"

namespace netpol::compose {

struct Grant {  // an allowed flow to a published port
  std::string source;     // "extranet", "vm-extranet", "lan (other than pve)"
  std::string ports;      // the part it allows: "tcp/8096"
  std::string where;      // the deciding rule: "flows.npol:50"
  std::string rule_text;  // the rule on one line
};

enum class Verdict {
  allowed,        // published beyond localhost, and flows allow every port of it
  local,          // published on loopback only
  exposed,        // published beyond localhost, some port allowed by no flow (E901)
  kept_local,     // published beyond localhost, a `never` keeps it from the host (E902)
  not_published,  // `expose`: other containers only
  host_network,   // `network_mode: host` (W904)
};
std::string to_string(Verdict v);  // "allowed", "local", "exposed", "kept-local", "not-published", "host-network"

struct PortReport {
  Span span;
  std::string service;
  std::vector<std::string> profiles;
  std::string entry;          // as written; empty for a host-network service
  std::string host_ip;        // empty: every address
  std::string host_ports;     // "8096", "random", or empty (not published)
  std::string checked;        // what the policy is asked about: the container's "tcp/8096"
  Verdict verdict = Verdict::allowed;
  std::vector<Grant> grants;
};

// The findings for `file` on host `host` go to `diags`; one row per port, in file order.
std::vector<PortReport> audit_compose(const ir::Policy& policy, const Matrix& matrix, int host,
                                      const ComposeFile& file, Diagnostics& diags);

}  // namespace netpol::compose
