#pragma once
// A zone's probe namespace on a node: a namespace named nv-probe-<zone>, joined to the zone's
// bridge by a veth pair (nv-p<N> on the bridge, eth0 inside), holding the zone's probe address.
#include <string>

#include "netlink.h"
#include "plan.h"

namespace netpol::live {

struct ProbeNamespace {
  std::string ns;         // "nv-probe-lan"
  std::string node_link;  // "nv-p0", enslaved to the bridge in the node's namespace
};

// How probe namespaces and their links are named: on a node nv-probe-<zone> and nv-p<N>; the lab
// names its own apart (nv-lab-probe-, nv-lp), so netverify can also run on a lab's node.
struct ProbeNaming {
  std::string ns_prefix = "nv-probe-";
  std::string link_prefix = "nv-p";
};

// Creates it; `node_ns` is where the bridge lives ("" = here). Throws ToolError.
ProbeNamespace attach_zone_probe(Netlink& nl, const std::string& node_ns, const LiveEnd& zone, int index,
                                 const std::string& gateway, const ProbeNaming& naming = {});

}  // namespace netpol::live
