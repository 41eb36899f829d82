#include "plan.h"

#include <algorithm>
#include <arpa/inet.h>
#include <set>
#include <stdexcept>

namespace netpol::live {

namespace {

using ir::Proto;
using ir::ServicePort;

ServicePort single(Proto proto, std::uint16_t port) { return {proto, {port, port}}; }

std::uint32_t v4_of(const Cidr& c) {
  return (std::uint32_t{c.bytes[0]} << 24) | (std::uint32_t{c.bytes[1]} << 16) |
         (std::uint32_t{c.bytes[2]} << 8) | std::uint32_t{c.bytes[3]};
}

Cidr v4_cidr(std::uint32_t address, int prefix) {
  Cidr c;
  c.family = Family::v4;
  c.bytes[0] = static_cast<std::uint8_t>(address >> 24);
  c.bytes[1] = static_cast<std::uint8_t>(address >> 16);
  c.bytes[2] = static_cast<std::uint8_t>(address >> 8);
  c.bytes[3] = static_cast<std::uint8_t>(address);
  c.prefix = prefix;
  return c;
}

std::string v4_text(std::uint32_t address) { return v4_cidr(address, 32).str(true); }

bool zone_within(const ir::Policy& p, int z, int ancestor) {
  for (std::optional<int> cur = z; cur; cur = p.zones[static_cast<std::size_t>(*cur)].parent)
    if (*cur == ancestor) return true;
  return false;
}

std::optional<Cidr> first_v4(const std::vector<Cidr>& cidrs) {
  for (const auto& c : cidrs)
    if (c.family == Family::v4) return c;
  return std::nullopt;
}

// Addresses of `zone`'s network that a probe must not take: hosts anywhere, nested zones.
bool taken(const ir::Policy& p, int zone, std::uint32_t address) {
  const Cidr a = v4_cidr(address, 32);
  for (const auto& h : p.hosts)
    for (const auto& ha : h.addresses)
      if (ha == a) return true;
  for (std::size_t z = 0; z < p.zones.size(); ++z) {
    if (static_cast<int>(z) == zone || !zone_within(p, static_cast<int>(z), zone)) continue;
    for (const auto& n : p.zones[z].networks)
      if (n.contains(a)) return true;
  }
  return false;
}

// The bridge subnet a zone's probe lives in: its outermost ancestor's network on the same bridge.
Cidr bridge_subnet(const ir::Policy& p, int zone, const Cidr& own) {
  Cidr best = own;
  for (std::optional<int> cur = p.zones[static_cast<std::size_t>(zone)].parent; cur;
       cur = p.zones[static_cast<std::size_t>(*cur)].parent) {
    const auto& z = p.zones[static_cast<std::size_t>(*cur)];
    if (z.bridge != p.zones[static_cast<std::size_t>(zone)].bridge) break;
    for (const auto& n : z.networks)
      if (n.family == Family::v4 && n.contains(own)) best = n;
  }
  return best;
}

std::string rule_text(const ir::Policy& p, int rule) {
  if (rule < 0) return "default deny";
  const auto& r = p.rules[static_cast<std::size_t>(rule)];
  return r.location.where() + " " + r.text;
}

bool is_vm(const LiveEnd& e) { return e.vmid.has_value(); }

}  // namespace

const std::vector<ServicePort>& sensitive_ports() {
  // ssh, http(s), NPM's admin UI, rpcbind, SMB, NFS, Docker API, squid/PVE spice proxy, MySQL,
  // Postgres, VNC, Redis, PVE UI, alt-HTTP, node_exporter, Elasticsearch, MongoDB; DNS, NTP, SNMP,
  // OpenVPN, corosync.
  static const std::vector<ServicePort> ports = [] {
    std::vector<ServicePort> v;
    for (int p : {22, 80, 81, 111, 443, 445, 2049, 2375, 3128, 3306, 5432, 5900, 6379, 8006, 8080, 9100, 9200, 27017})
      v.push_back(single(Proto::tcp, static_cast<std::uint16_t>(p)));
    for (int p : {53, 123, 161, 1194, 5405}) v.push_back(single(Proto::udp, static_cast<std::uint16_t>(p)));
    return v;
  }();
  return ports;
}

std::optional<ZoneAddressing> zone_addressing(const ir::Policy& policy, int zone, bool lab) {
  const auto& z = policy.zones[static_cast<std::size_t>(zone)];
  if (z.catch_all) {
    if (!lab) return std::nullopt;
    // The first 198.19.x.0/24 no other zone claims: the lab's "internet".
    for (std::uint32_t block = 0; block < 256; ++block) {
      const Cidr net = v4_cidr((198u << 24) | (19u << 16) | (block << 8), 24);
      bool used = false;
      for (const auto& other : policy.zones)
        if (!other.catch_all)
          for (const auto& n : other.networks) used = used || n.overlaps(net);
      if (!used) return ZoneAddressing{net.str(), 24, v4_text(v4_of(net) + 2), v4_text(v4_of(net) + 1)};
    }
    return std::nullopt;
  }
  const auto own = first_v4(z.networks);
  if (!own || own->prefix > 30) return std::nullopt;
  const Cidr subnet = bridge_subnet(policy, zone, *own);
  const std::uint32_t first = v4_of(*own), last = first + ((1u << (32 - own->prefix)) - 1);
  const std::uint32_t sub_first = v4_of(subnet), sub_last = sub_first + ((1u << (32 - subnet.prefix)) - 1);
  ZoneAddressing a;
  a.subnet = subnet.str();
  a.prefix = subnet.prefix;
  // The probe: the highest free address of the zone itself; the gateway: the lowest of the subnet.
  for (std::uint32_t addr = last; addr >= first && addr > sub_first; --addr)
    if (addr != sub_last && !taken(policy, zone, addr)) {
      a.probe = v4_text(addr);
      break;
    }
  for (std::uint32_t addr = sub_first + 1; addr < sub_last; ++addr)
    if (!taken(policy, -1, addr) && v4_text(addr) != a.probe) {
      a.gateway = v4_text(addr);
      break;
    }
  if (a.probe.empty()) return std::nullopt;
  return a;
}

std::vector<ServicePort> ports_of_interest(const ir::Policy& policy, const std::vector<ServicePort>& extra) {
  std::set<ServicePort> ports;
  auto add = [&](const ServicePort& sp) {
    if (sp.proto == Proto::icmp) return;
    ports.insert(single(sp.proto, sp.range.first));
    ports.insert(single(sp.proto, sp.range.last));
  };
  for (const auto& s : policy.services)
    for (const auto& sp : s.ports) add(sp);
  for (const auto& r : policy.rules)
    for (const auto& rs : r.services) add(rs.port);
  for (const auto& v : policy.vpns) add(v.listen);
  for (const auto& pub : policy.publishes) {
    add(pub.listen_port);
    add(pub.backend_port);
  }
  for (const auto& sp : sensitive_ports()) add(sp);
  for (const auto& sp : extra) add(sp);
  return {ports.begin(), ports.end()};
}

Expectation expect(const ir::Policy& policy, const Matrix& matrix, const LiveEnd& source,
                   const LiveEnd& destination, const ServicePort& port) {
  const auto v = matrix.decide(source.policy_end, destination.policy_end, port.proto, port.range.first);
  if (v.allowed) return {true, rule_text(policy, v.rule)};
  // Proxmox accepts corosync (udp/5404-5405) to the node from its own subnet before the cluster's
  // policy_in (formats.md 1.8); netpolc's host.fw closes the management ports but not corosync,
  // which a cluster needs. A VM's own policy_out DROP stops it first.
  if (destination.is_node && port.proto == Proto::udp && port.range.first >= 5404 && port.range.first <= 5405 &&
      !is_vm(source) && source.kind != LiveEnd::Kind::vpn_client && destination.prefix > 0 && !source.address.empty()) {
    const auto node = parse_cidr(destination.address).cidr;
    const auto src = parse_cidr(source.address).cidr;
    const std::uint32_t mask = destination.prefix >= 32 ? ~0u : ~((1u << (32 - destination.prefix)) - 1);
    if (node && src && v4_cidr(v4_of(*node) & mask, destination.prefix).contains(*src))
      return {true, "Proxmox default: corosync from the node's subnet (local_network), not closed by host.fw"};
  }
  return {false, rule_text(policy, v.rule)};
}

Plan make_plan(const ir::Policy& policy, const Matrix& matrix, const PlanOptions& options) {
  Plan plan;
  plan.ports = ports_of_interest(policy, options.extra_ports);

  std::vector<LiveEnd> zone_probes;
  for (std::size_t z = 0; z < policy.zones.size(); ++z) {
    const auto& zone = policy.zones[z];
    const bool vpn_pool = std::any_of(policy.vpns.begin(), policy.vpns.end(),
                                      [&](const ir::Vpn& v) { return v.pool == static_cast<int>(z); });
    const bool named = std::find(options.from.begin(), options.from.end(), zone.name) != options.from.end();
    if (vpn_pool) {
      if (!options.lab && !named) continue;
      LiveEnd e;
      e.kind = LiveEnd::Kind::vpn_client;
      e.name = zone.name;
      e.policy_end = {ir::Endpoint::Kind::zone, static_cast<int>(z)};
      e.managed = true;
      zone_probes.push_back(e);
      continue;
    }
    if (zone.bridge.empty() && !(options.lab && zone.catch_all) && !named) continue;
    auto a = zone_addressing(policy, static_cast<int>(z), options.lab);
    if (!a && !named) continue;
    if (!a) a = ZoneAddressing{};  // --from: probes leave from wherever netverify runs
    LiveEnd e;
    e.kind = LiveEnd::Kind::zone_probe;
    e.name = zone.name;
    e.policy_end = {ir::Endpoint::Kind::zone, static_cast<int>(z)};
    e.address = a->probe;
    e.prefix = a->prefix;
    e.bridge = zone.bridge;
    zone_probes.push_back(e);
  }
  std::vector<LiveEnd> hosts;
  for (std::size_t h = 0; h < policy.hosts.size(); ++h) {
    const auto& host = policy.hosts[h];
    const auto a = first_v4(host.addresses);
    if (!a) continue;
    LiveEnd e;
    e.kind = LiveEnd::Kind::host;
    e.name = host.name;
    e.policy_end = {ir::Endpoint::Kind::host, static_cast<int>(h)};
    e.address = a->str(true);
    e.bridge = host.bridge;
    e.vmid = host.vmid;
    e.is_node = host.is_node;
    e.managed = host.vmid.has_value() || host.is_node;
    if (auto za = zone_addressing(policy, host.zone, options.lab)) e.prefix = za->prefix;
    hosts.push_back(e);
  }

  // Sources: the zones' probes; in the lab also every VM (its own outbound) and the VPN client.
  // The node is not a source: its outbound is not filtered by design (cluster.fw policy_out ACCEPT).
  for (const auto& e : zone_probes) plan.sources.push_back(e);
  if (options.lab)
    for (const auto& e : hosts)
      if (e.vmid) plan.sources.push_back(e);
  if (!options.from.empty())
    std::erase_if(plan.sources, [&](const LiveEnd& e) {
      return std::find(options.from.begin(), options.from.end(), e.name) == options.from.end();
    });
  // Destinations: every managed host; in the lab also the zones' probes (a VM's outbound lands there).
  for (const auto& e : hosts)
    if (e.managed) plan.destinations.push_back(e);
  if (options.lab)
    for (const auto& e : zone_probes) plan.destinations.push_back(e);

  for (std::size_t s = 0; s < plan.sources.size(); ++s)
    for (std::size_t d = 0; d < plan.destinations.size(); ++d) {
      const auto& src = plan.sources[s];
      const auto& dst = plan.destinations[d];
      if (src.name == dst.name || (!src.managed && !dst.managed)) continue;
      for (const auto& port : plan.ports) {
        Plan::Entry entry{s, d, {}};
        Cell& c = entry.cell;
        c.source = src.name;
        c.source_address = src.address;
        c.destination = dst.name;
        c.destination_address = dst.address;
        c.proto = port.proto == Proto::udp ? L4::udp : L4::tcp;
        c.port = port.range.first;
        const auto ex = expect(policy, matrix, src, dst, port);
        c.expected_allowed = ex.allowed;
        c.rule = ex.rule;
        plan.entries.push_back(std::move(entry));
      }
    }
  return plan;
}

std::vector<ServicePort> parse_port_list(const std::string& text) {
  std::vector<ServicePort> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const auto comma = std::min(text.find(',', at), text.size());
    std::string item = text.substr(at, comma - at);
    at = comma + 1;
    if (item.empty()) throw std::invalid_argument("empty item in port list '" + text + "'");
    Proto proto = Proto::tcp;
    if (item.rfind("tcp/", 0) == 0) item = item.substr(4);
    else if (item.rfind("udp/", 0) == 0) {
      proto = Proto::udp;
      item = item.substr(4);
    }
    if (item.empty() || item.size() > 5 || item.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument("'" + item + "' is not a port (write tcp/N, udp/N or N)");
    const unsigned long n = std::stoul(item);
    if (n < 1 || n > 65535) throw std::invalid_argument("port " + item + " is outside 1-65535");
    out.push_back(single(proto, static_cast<std::uint16_t>(n)));
    if (comma == text.size()) break;
  }
  return out;
}

}  // namespace netpol::live
