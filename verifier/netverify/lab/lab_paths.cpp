#include "lab_paths.h"


#include "service_files.h"
#include "token.h"

namespace netpol::live::lab {

namespace {

// Is `e` the endpoint `within`, or a host of zone `within`? A zone means its own addresses, not its
// nested zones' (as every target emits it: the lan's ipset excludes the intranet).
bool end_within(const ir::Policy& p, const ir::Endpoint& e, const ir::Endpoint& within) {
  if (e == within) return true;
  return within.kind == ir::Endpoint::Kind::zone && e.kind == ir::Endpoint::Kind::host &&
         p.hosts[static_cast<std::size_t>(e.id)].zone == within.id;
}

std::string first_v4(const std::vector<Cidr>& addresses) {
  for (const auto& a : addresses)
    if (a.family == Family::v4) return a.str(true);
  return {};
}

}  // namespace

std::vector<Cell> probe_through_proxy(const ProxyProbeContext& x) {
  std::vector<Cell> cells;
  int n = 0;
  for (const auto& pub : x.policy.publishes) {
    const auto& proxy = x.policy.hosts[static_cast<std::size_t>(pub.proxy)];
    const auto& backend = x.policy.hosts[static_cast<std::size_t>(pub.backend)];
    const std::string proxy_address = first_v4(proxy.addresses);
    const std::uint16_t port = pub.listen_port.range.first;
    for (const auto& s : x.plan.sources) {
      if (s.kind == LiveEnd::Kind::host) continue;  // the zones and the VPN client: the proxy's users
      const auto place = x.places.find(s.name);
      if (place == x.places.end()) continue;
      Cell c;
      c.source = s.name;
      c.source_address = place->second.address;
      c.destination = backend.name;
      c.destination_address = first_v4(backend.addresses);
      c.proto = L4::tcp;
      c.port = pub.backend_port.range.first;
      c.via = "proxy " + pub.domain;
      bool from = false;
      for (const auto& f : pub.from) from = from || end_within(x.policy, s.policy_end, f);
      const auto transport = x.matrix.decide(s.policy_end, {ir::Endpoint::Kind::host, pub.proxy}, ir::Proto::tcp, port);
      c.expected_allowed = from && transport.allowed;
      c.rule = pub.location.where() + " publish " + pub.domain + (from ? "" : " (not from " + s.name + ")");
      const std::string token = make_token();
      const std::string scheme = pub.tls ? "https" : "http";
      std::vector<std::string> argv{"curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "--connect-timeout", "1",
                                    "--max-time", "2", "--resolve",
                                    pub.domain + ":" + std::to_string(port) + ":" + proxy_address};
      if (!place->second.device.empty()) argv.insert(argv.end(), {"--interface", place->second.device});
      argv.push_back(scheme + "://" + pub.domain + ":" + std::to_string(port) + "/netverify/" + token);
      const std::string log = x.logs + "/curl-" + std::to_string(n++) + ".log";
      const int status = x.processes.run(place->second.ns, argv, log, std::chrono::seconds(5));
      const std::string code = read_text(log).substr(0, 3);
      if (x.tokens.seen(token)) {
        c.observed = Verdict::delivered;
        c.evidence = "token seen at " + backend.name + " (HTTP " + code + " through the proxy)";
      } else if (status == 0 && !code.empty() && code != "000") {
        c.observed = Verdict::blocked;
        c.evidence = "the proxy answered HTTP " + code + "; the backend saw no token";
      } else {
        c.observed = Verdict::blocked;
        c.evidence = "no HTTP answer from the proxy (curl status " + std::to_string(status) + ")";
      }
      cells.push_back(c);
    }
  }
  return cells;
}

std::vector<Cell> check_vpn_routes(const ir::Policy& policy, const std::vector<std::string>& client_routes,
                                   const std::string& client_address) {
  std::vector<Cell> cells;
  for (const auto& vpn : policy.vpns) {
    // What the policy lets a client route through the tunnel: its routes and its own pool.
    std::vector<std::pair<Cidr, std::string>> expected;
    auto add_end = [&](const ir::Endpoint& e) {
      const auto& list = e.kind == ir::Endpoint::Kind::zone ? policy.zones[static_cast<std::size_t>(e.id)].networks
                                                            : policy.hosts[static_cast<std::size_t>(e.id)].addresses;
      for (const auto& c : list)
        if (c.family == Family::v4) expected.push_back({c, policy.name_of(e)});
    };
    for (const auto& r : vpn.routes) add_end(r);
    add_end({ir::Endpoint::Kind::zone, vpn.pool});
    std::vector<bool> present(expected.size(), false);
    for (const auto& text : client_routes) {
      const auto route = parse_cidr(text);
      if (!route.cidr || route.cidr->family != Family::v4) continue;
      Cell c;
      c.source = policy.zones[static_cast<std::size_t>(vpn.pool)].name;
      c.source_address = client_address;
      c.destination = "route " + route.cidr->str();
      c.via = "vpn " + vpn.name;
      c.proto = L4::udp;
      c.port = vpn.listen.range.first;
      c.observed = Verdict::delivered;
      std::string covered;
      for (std::size_t i = 0; i < expected.size(); ++i)
        if (expected[i].first.contains(*route.cidr)) {
          covered = expected[i].second;
          present[i] = present[i] || expected[i].first == *route.cidr;
        }
      c.expected_allowed = !covered.empty();
      c.rule = vpn.location.where() + " vpn " + vpn.name + (covered.empty() ? ": routes no such network" : ": route " + covered);
      c.evidence = "the client holds a route to " + route.cidr->str() + " through its tunnel";
      cells.push_back(c);
    }
    for (std::size_t i = 0; i < expected.size(); ++i) {
      if (present[i]) continue;
      bool inside = false;
      for (const auto& text : client_routes)
        if (auto r = parse_cidr(text).cidr) inside = inside || r->contains(expected[i].first);
      if (inside) continue;
      Cell c;
      c.source = policy.zones[static_cast<std::size_t>(vpn.pool)].name;
      c.source_address = client_address;
      c.destination = "route " + expected[i].first.str();
      c.via = "vpn " + vpn.name;
      c.proto = L4::udp;
      c.port = vpn.listen.range.first;
      c.expected_allowed = true;
      c.rule = vpn.location.where() + " vpn " + vpn.name + ": route " + expected[i].second;
      c.observed = Verdict::blocked;
      c.evidence = "the client has no route to " + expected[i].first.str() + " through its tunnel";
      cells.push_back(c);
    }
  }
  return cells;
}

}  // namespace netpol::live::lab
