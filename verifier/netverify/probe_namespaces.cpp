#include "probe_namespaces.h"

#include "netns.h"

namespace netpol::live {

ProbeNamespace attach_zone_probe(Netlink& nl, const std::string& node_ns, const LiveEnd& zone, int index,
                                 const std::string& gateway, const ProbeNaming& naming) {
  ProbeNamespace p{naming.ns_prefix + zone.name, naming.link_prefix + std::to_string(index)};
  if (zone.bridge.empty()) throw ToolError("zone " + zone.name + " has no bridge to probe from");
  if (!nl.link_exists(node_ns, zone.bridge)) throw ToolError("bridge " + zone.bridge + " of zone " + zone.name + " does not exist");
  netns_add(p.ns);
  nl.set_up(p.ns, "lo");
  nl.add_veth(node_ns, p.node_link, p.ns, "eth0");
  nl.set_master(node_ns, p.node_link, zone.bridge);
  nl.set_up(node_ns, p.node_link);
  nl.add_address(p.ns, "eth0", zone.address + "/" + std::to_string(zone.prefix));
  nl.set_up(p.ns, "eth0");
  if (!gateway.empty()) nl.add_route(p.ns, "default", gateway, "eth0");
  return p;
}

}  // namespace netpol::live
