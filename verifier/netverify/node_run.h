#pragma once
// `netverify POLICY` on a Proxmox node: a probe namespace on each zone's bridge (or, with --from,
// probes from where it runs), a capture on every VM's tap interface, the report.
#include <map>
#include <string>

#include "report_options.h"

namespace netpol::live {

struct NodeOptions {
  RunOptions run;
  std::string from;                          // --from ZONE: probe from here, as a member of ZONE
  std::map<std::string, std::string> gateway; // --gateway ZONE=ADDRESS for the zone's probe namespace
};

int run_node(const NodeOptions& options);

// `netverify cleanup`: what a crash left (namespaces, links, processes named nv-...).
int run_cleanup();

}  // namespace netpol::live
