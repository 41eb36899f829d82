#include "policy_json.h"

#include <nlohmann/json.hpp>

#include "icmp_types.h"

namespace netpol {

namespace {
using json = nlohmann::ordered_json;

json cidrs(const std::vector<Cidr>& list, bool host_form) {
  json out = json::array();
  for (const auto& c : list) out.push_back(c.str(host_form));
  return out;
}

json endpoints(const ir::Policy& p, const std::vector<ir::Endpoint>& list) {
  json out = json::array();
  for (const auto& e : list) out.push_back(p.name_of(e));
  return out;
}

json location(const ir::Location& loc) { return {{"file", loc.file}, {"line", loc.line}}; }

void add_ports(json& row, const ir::ServicePort& port) {
  row["proto"] = ir::to_string(port.proto);
  if (port.proto == ir::Proto::icmp) {
    // First-match can leave any range of types; a name only where one type or all remain.
    bool all = port.range.first == 0 && port.range.last == kIcmpTypeMax;
    row["first_type"] = port.range.first;
    row["last_type"] = port.range.last;
    if (all) row["icmp_type"] = "any";
    else if (port.range.first == port.range.last && icmp_type_name(port.range.first))
      row["icmp_type"] = *icmp_type_name(port.range.first);
  } else {
    row["first_port"] = port.range.first;
    row["last_port"] = port.range.last;
  }
}

json flow_end(const ir::Policy& p, const ir::FlowEnd& end, const char* key) {
  json out;
  out[key] = p.name_of(end.endpoint);
  out[std::string(key) + "_kind"] = end.endpoint.kind == ir::Endpoint::Kind::zone ? "zone" : "host";
  if (!end.except_hosts.empty()) {
    json except = json::array();
    for (int h : end.except_hosts) except.push_back(p.hosts[static_cast<std::size_t>(h)].name);
    out[std::string(key) + "_except"] = except;
  }
  return out;
}

const char* origin_name(ir::Origin o) {
  switch (o) {
    case ir::Origin::rule: return "rule";
    case ir::Origin::vpn: return "vpn";
    case ir::Origin::publish: return "publish";
  }
  return "?";
}
}  // namespace

std::string policy_json(const ir::Policy& p) {
  json doc;
  doc["format"] = "netpol-policy/1";
  doc["policy"] = p.entry;
  doc["policy_sha256"] = p.policy_sha256;

  json zones = json::array();
  for (const auto& z : p.zones) {
    json row{{"name", z.name}, {"networks", cidrs(z.networks, false)}};
    row["parent"] = z.parent ? json(p.zones[static_cast<std::size_t>(*z.parent)].name) : json(nullptr);
    row["bridge"] = z.bridge.empty() ? json(nullptr) : json(z.bridge);
    row["catch_all"] = z.catch_all;
    row["defined_at"] = location(z.location);
    zones.push_back(row);
  }
  doc["zones"] = zones;

  json hosts = json::array();
  for (const auto& h : p.hosts) {
    json row{{"name", h.name}, {"zone", p.zones[static_cast<std::size_t>(h.zone)].name},
             {"addresses", cidrs(h.addresses, true)}};
    row["kind"] = h.is_node ? "node" : h.vmid ? "vm" : "host";
    row["vmid"] = h.vmid ? json(*h.vmid) : json(nullptr);
    row["bridge"] = h.bridge.empty() ? json(nullptr) : json(h.bridge);
    row["defined_at"] = location(h.location);
    hosts.push_back(row);
  }
  doc["hosts"] = hosts;

  json services = json::array();
  for (const auto& s : p.services) {
    json ports = json::array();
    for (const auto& port : s.ports) ports.push_back(port.str());
    services.push_back({{"name", s.name}, {"ports", ports}, {"defined_at", location(s.location)}});
  }
  doc["services"] = services;

  json rules = json::array();
  for (std::size_t i = 0; i < p.rules.size(); ++i) {
    const auto& r = p.rules[i];
    json services_of_rule = json::array();
    for (const auto& s : r.services) services_of_rule.push_back(s.port.str());
    rules.push_back({{"id", i},
                     {"action", r.action == ir::Action::allow ? "allow" : "deny"},
                     {"origin", origin_name(r.origin)},
                     {"sources", endpoints(p, r.sources)},
                     {"destinations", endpoints(p, r.destinations)},
                     {"services", services_of_rule},
                     {"file", r.location.file},
                     {"line", r.location.line},
                     {"text", r.text}});
  }
  doc["rules"] = rules;

  json invariants = json::array();
  for (const auto& inv : p.invariants)
    invariants.push_back({{"text", inv.text}, {"file", inv.location.file}, {"line", inv.location.line}});
  doc["invariants"] = invariants;

  json vpns = json::array();
  for (const auto& v : p.vpns) {
    vpns.push_back({{"name", v.name},
                    {"server", p.hosts[static_cast<std::size_t>(v.server)].name},
                    {"listen", v.listen.str()},
                    {"from", endpoints(p, v.listen_from)},
                    {"pool", p.zones[static_cast<std::size_t>(v.pool)].name},
                    {"routes", endpoints(p, v.routes)},
                    {"defined_at", location(v.location)}});
  }
  doc["vpns"] = vpns;

  json publishes = json::array();
  for (const auto& pub : p.publishes) {
    publishes.push_back({{"domain", pub.domain},
                         {"proxy", p.hosts[static_cast<std::size_t>(pub.proxy)].name},
                         {"backend", p.hosts[static_cast<std::size_t>(pub.backend)].name},
                         {"backend_port", pub.backend_port.str()},
                         {"listen", pub.listen_port.str()},
                         {"tls", pub.tls},
                         {"websocket", pub.websocket},
                         {"from", endpoints(p, pub.from)},
                         {"defined_at", location(pub.location)}});
  }
  doc["publishes"] = publishes;

  json flows = json::array();
  for (const auto& f : p.flows) {
    json row = flow_end(p, f.source, "source");
    row.update(flow_end(p, f.destination, "destination"));
    add_ports(row, {f.proto, f.ports});
    const auto& rule = p.rules[static_cast<std::size_t>(f.rule)];
    row["rule"] = f.rule;
    row["from"] = rule.location.where() + " " + rule.text;
    flows.push_back(row);
  }
  doc["flows"] = flows;
  return doc.dump(2) + "\n";
}

}  // namespace netpol
