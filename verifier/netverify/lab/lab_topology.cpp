#include "lab_topology.h"

#include <algorithm>
#include <fstream>
#include <set>

#include "lab.h"
#include "netns.h"
#include "probe_namespaces.h"

namespace netpol::live::lab {

namespace {

std::string lab_ns(const std::string& what) { return std::string(kLabPrefix) + what; }

const ProbeNaming kLabProbes{std::string(kLabPrefix) + "probe-", "nv-lp"};

const LiveEnd* find_end(const Plan& plan, const std::string& name) {
  for (const auto* list : {&plan.sources, &plan.destinations})
    for (const auto& e : *list)
      if (e.name == name) return &e;
  return nullptr;
}

}  // namespace

void set_sysctl(const std::string& ns, const std::string& key, const std::string& value) {
  std::string path = "/proc/sys/" + key;
  std::replace(path.begin() + 10, path.end(), '.', '/');
  run_in_netns(ns, [&] {
    std::ofstream f(path);
    f << value << '\n';
    f.close();
    if (!f) throw ToolError("cannot set " + key + " in " + ns);
  });
}

LabTopology lay_out(const ir::Policy& policy, const Plan& plan) {
  LabTopology t;
  t.node_ns = lab_ns("pve");
  t.router_ns = lab_ns("gw");
  std::set<std::string> bridges;
  for (const auto* list : {&plan.sources, &plan.destinations})
    for (const auto& e : *list) {
      if (!e.bridge.empty()) bridges.insert(e.bridge);
      if (e.kind == LiveEnd::Kind::host) {
        if (e.is_node) t.ns_of[e.name] = t.node_ns;
        else if (e.vmid) {
          t.ns_of[e.name] = lab_ns(e.name);
          t.tap_of[*e.vmid] = "tap" + std::to_string(*e.vmid) + "i0";
        }
      } else if (e.kind == LiveEnd::Kind::zone_probe) {
        t.ns_of[e.name] = e.bridge.empty() ? lab_ns(e.name) : kLabProbes.ns_prefix + e.name;
      } else {
        t.ns_of[e.name] = lab_ns("vpnc");
      }
    }
  t.bridges.assign(bridges.begin(), bridges.end());
  // The router's address on each bridge: the gateway of a zone on it.
  for (std::size_t z = 0; z < policy.zones.size(); ++z) {
    const auto& zone = policy.zones[z];
    if (zone.bridge.empty() || t.gateway.count(zone.bridge)) continue;
    if (auto a = zone_addressing(policy, static_cast<int>(z), true)) t.gateway[zone.bridge] = a->gateway + "/" + std::to_string(a->prefix);
  }
  for (std::size_t z = 0; z < policy.zones.size(); ++z)
    if (policy.zones[z].catch_all)
      if (auto a = zone_addressing(policy, static_cast<int>(z), true)) {
        t.internet_subnet = a->subnet;
        const auto base = a->subnet.substr(0, a->subnet.rfind('.'));
        t.vpn_client_address = base + ".3";
      }
  if (!policy.vpns.empty()) t.vpn_client_ns = lab_ns("vpnc");
  return t;
}

void build(LabTopology& t, const ir::Policy& policy, const Plan& plan, Netlink& nl) {
  auto add_ns = [&](const std::string& ns) {
    if (std::find(t.namespaces.begin(), t.namespaces.end(), ns) != t.namespaces.end()) return;
    netns_add(ns);
    t.namespaces.push_back(ns);
    nl.set_up(ns, "lo");
  };
  auto gateway_ip = [&](const std::string& bridge) {
    const auto& g = t.gateway.at(bridge);
    return g.substr(0, g.find('/'));
  };

  // The node: bridges, br_netfilter on (so the inet family sees bridged traffic), no routing.
  add_ns(t.node_ns);
  for (const auto& b : t.bridges) {
    nl.add_bridge(t.node_ns, b);
    nl.set_up(t.node_ns, b);
  }
  set_sysctl(t.node_ns, "net.bridge.bridge-nf-call-iptables", "1");
  set_sysctl(t.node_ns, "net.bridge.bridge-nf-call-ip6tables", "1");

  // The router: a leg on every bridge, and the internet side (a bridge of its own).
  add_ns(t.router_ns);
  set_sysctl(t.router_ns, "net.ipv4.ip_forward", "1");
  for (const auto& b : t.bridges) {
    if (!t.gateway.count(b)) throw ToolError("no free address for the lab's router on bridge " + b);
    const std::string leg = std::string(kNamePrefix) + "gw-" + b;
    nl.add_veth(t.node_ns, leg, t.router_ns, b);
    nl.set_master(t.node_ns, leg, b);
    nl.set_up(t.node_ns, leg);
    nl.add_address(t.router_ns, b, t.gateway.at(b));
    nl.set_up(t.router_ns, b);
  }
  if (!t.internet_subnet.empty()) {
    const auto base = t.internet_subnet.substr(0, t.internet_subnet.rfind('.'));
    nl.add_bridge(t.router_ns, "inet0");
    nl.add_address(t.router_ns, "inet0", base + ".1/24");
    nl.set_up(t.router_ns, "inet0");
    auto attach_outside = [&](const std::string& ns, const std::string& leg, const std::string& address) {
      add_ns(ns);
      nl.add_veth(t.router_ns, leg, ns, "eth0");
      nl.set_master(t.router_ns, leg, "inet0");
      nl.set_up(t.router_ns, leg);
      nl.add_address(ns, "eth0", address + "/24");
      nl.set_up(ns, "eth0");
      nl.add_route(ns, "default", base + ".1", "eth0");
    };
    std::set<std::string> done_outside;
    for (const auto* list : {&plan.sources, &plan.destinations})
      for (const auto& e : *list)
        if (e.kind == LiveEnd::Kind::zone_probe && e.bridge.empty() && !done_outside.count(e.name)) {
          done_outside.insert(e.name);  // a zone probe is both a source and a destination: attach it once
          attach_outside(t.ns_of.at(e.name), "inet-" + std::to_string(done_outside.size()), e.address);
        }
    if (!t.vpn_client_ns.empty()) attach_outside(t.vpn_client_ns, "inet-vpnc", t.vpn_client_address);
  }

  // Hosts: the node's own address on its bridge; each VM in its namespace behind tap<vmid>i0.
  std::set<std::string> done;
  for (const auto* list : {&plan.sources, &plan.destinations})
    for (const auto& e : *list) {
      if (e.kind != LiveEnd::Kind::host || !done.insert(e.name).second || e.bridge.empty()) continue;
      const std::string cidr = e.address + "/" + std::to_string(e.prefix);
      if (e.is_node) {
        nl.add_address(t.node_ns, e.bridge, cidr);
        nl.add_route(t.node_ns, "default", gateway_ip(e.bridge), e.bridge);
        continue;
      }
      if (!e.vmid) continue;
      const auto& ns = t.ns_of.at(e.name);
      add_ns(ns);
      const auto& tap = t.tap_of.at(*e.vmid);
      nl.add_veth(t.node_ns, tap, ns, "eth0");
      nl.set_master(t.node_ns, tap, e.bridge);
      nl.set_up(t.node_ns, tap);
      nl.add_address(ns, "eth0", cidr);
      nl.set_up(ns, "eth0");
      nl.add_route(ns, "default", gateway_ip(e.bridge), "eth0");
    }

  // The zones' probes on the bridges, made the way netverify makes them on a node.
  int index = 0;
  for (const auto* list : {&plan.sources, &plan.destinations})
    for (const auto& e : *list) {
      if (e.kind != LiveEnd::Kind::zone_probe || e.bridge.empty() || !done.insert(e.name).second) continue;
      const auto p = attach_zone_probe(nl, t.node_ns, e, index++, gateway_ip(e.bridge), kLabProbes);
      t.namespaces.push_back(p.ns);
    }

  // The VPN: the server routes its pool; the router sends the pool to the server.
  for (const auto& vpn : policy.vpns) {
    const auto& server = policy.hosts[static_cast<std::size_t>(vpn.server)];
    const LiveEnd* end = find_end(plan, server.name);
    if (!end || !t.ns_of.count(server.name)) continue;
    set_sysctl(t.ns_of.at(server.name), "net.ipv4.ip_forward", "1");
    for (const auto& net : policy.zones[static_cast<std::size_t>(vpn.pool)].networks)
      if (net.family == Family::v4) nl.add_route(t.router_ns, net.str(), end->address, end->bridge);
  }
}

}  // namespace netpol::live::lab
