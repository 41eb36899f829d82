#pragma once
// The published names as the reverse-proxy targets need them: one model, built and validated
// once from the IR, read by the NPM target (targets/npm) and the plain-nginx target
// (targets/nginx), so both say exactly the same thing.
#include <string>
#include <vector>

#include "diagnostics.h"
#include "ip.h"
#include "ir.h"

namespace netpol::npm {

// One distinct set of clients (`publish ... { from ... }`): an NPM access list.
struct ClientSet {
  std::string name;                    // "netpol-lan+vpn"
  std::vector<std::string> members;    // the zone and host names, sorted
  std::vector<Cidr> networks;          // exact networks, disjoint, v4 then v6, sorted
};

struct Site {
  int publish = -1;                    // index into policy.publishes
  std::string domain;                  // validated (npm::valid_domain)
  std::string backend_host;            // the backend's IPv4 address (the lowest, if several)
  int backend_port = 0;                // 1-65535
  bool tls = false;
  bool websocket = false;
  int client_set = -1;                 // index into Sites::client_sets
  std::string comment;                 // "flows.npol:74 publish ...", safe for any comment syntax
};

struct Sites {
  std::vector<Site> sites;             // in policy order
  std::vector<ClientSet> client_sets;  // in order of first use
  bool complete = true;                // every published name became a site (no error)
};

// Builds and validates every published name. Problems are errors (E720-E724) at the publish
// statement; a diagnostic already reported with the same code and place is not repeated, so
// the NPM and nginx targets may both call this. A site with an error is left out.
Sites build_sites(const ir::Policy& policy, Diagnostics& diags);

// NPM's nginx.conf trusts X-Real-IP from 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16
// (formats.md 3.4). Who can defeat a site's access list that way: every flow source that the
// resolved matrix lets reach the proxy on the site's port, minus the site's own clients, within
// those ranges. One entry per source ("intranet (192.168.1.16/28)"), in flow order.
std::vector<std::string> real_ip_forgers(const ir::Policy& policy, const Site& site, const ClientSet& clients);

}  // namespace netpol::npm
