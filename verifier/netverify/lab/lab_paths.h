#pragma once
// The lab's two indirect paths: through the reverse proxy (a request for each published name from
// each zone, proven at the backend by its token) and through the VPN (the routes the client was
// given, held against the routes the policy pushes).
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cell.h"
#include "ir.h"
#include "listener.h"
#include "matrix.h"
#include "plan.h"
#include "processes.h"
#include "probe_run.h"

namespace netpol::live::lab {

struct ProxyProbeContext {
  const ir::Policy& policy;
  const Matrix& matrix;
  const Plan& plan;
  const std::map<std::string, SourcePlace>& places;   // where each source probes from
  const TokenLog& tokens;
  Processes& processes;
  std::string logs;                                   // a directory for curl's output
};

// One cell per published name and zone (and the VPN client): an HTTPS request for the name with a
// token in its path, sent to the proxy. Delivered when the backend's listener saw the token.
std::vector<Cell> probe_through_proxy(const ProxyProbeContext& context);

// One cell per route the VPN client holds through its tunnel, and per route the policy pushes.
std::vector<Cell> check_vpn_routes(const ir::Policy& policy, const std::vector<std::string>& client_routes,
                                   const std::string& client_address);

}  // namespace netpol::live::lab
