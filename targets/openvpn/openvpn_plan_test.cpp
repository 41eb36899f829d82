// The OpenVPN plan: pool, routes, clients, client-to-client, and every diagnostic.
#include "openvpn_plan.h"

#include <catch2/catch.hpp>

#include "openvpn_codes.h"
#include "openvpn_target.h"
#include "test_support.h"

using namespace netpol;
using namespace netpol::openvpn;

namespace {

std::vector<std::string> strs(const std::vector<Cidr>& list) {
  std::vector<std::string> out;
  for (const auto& c : list) out.push_back(c.str());
  return out;
}
Cidr cidr(const char* text) { return *parse_cidr(text).cidr; }

// A small policy: lan with a nested zone, a DMZ with the server, a pool, the Internet.
// `extra` is appended (more hosts, rules, VPN properties through `vpn_props`).
std::string policy(const std::string& vpn_props, const std::string& extra = "", const std::string& pool = "198.18.8.0/24") {
  return R"(
zone lan { bridge vmbr0 }
zone servers in lan
zone dmz { bridge vmbr1 }
zone vpn
zone internet
address lan 198.18.1.0/24, 2001:db8:1::/64
address servers 198.18.1.16/28
address dmz 198.18.10.0/24, 2001:db8:10::/64
address vpn )" + pool + R"(
address internet 0.0.0.0/0, ::/0
host gw in dmz { vmid 101 }
address gw 198.18.10.10
host nas in lan
address nas 198.18.1.5
service openvpn udp/1194
vpn remote on gw {
  listen openvpn from internet
  pool vpn
)" + vpn_props + R"(
}
)" + extra;
}

struct Planned {
  std::unique_ptr<Compilation> c;
  std::vector<Server> servers;
  std::vector<std::string> codes;
};

Planned plan(const std::string& text) {
  Planned p;
  p.c = testing::compile_text(text);
  INFO(testing::rendered(*p.c));
  REQUIRE(p.c->ok());
  p.servers = plan_servers(p.c->policy, p.c->diags);
  p.codes = testing::codes(*p.c);
  return p;
}

// Only the error codes (W600 warnings of the core are not this target's business).
std::vector<std::string> errors(const Planned& p) {
  std::vector<std::string> out;
  for (const auto& code : p.codes)
    if (code[0] == 'E') out.push_back(code.substr(0, 4));
  return out;
}

}  // namespace

TEST_CASE("Helpers: netmasks, offsets and aggregation", "[openvpn]") {
  CHECK(v4_netmask(24) == "255.255.255.0");
  CHECK(v4_netmask(29) == "255.255.255.248");
  CHECK(v4_netmask(32) == "255.255.255.255");
  CHECK(offset_address(cidr("198.18.8.0/24"), 1).str(true) == "198.18.8.1");
  CHECK(offset_address(cidr("198.18.8.0/24"), 256).str(true) == "198.18.9.0");
  CHECK(offset_address(cidr("2001:db8:8::/64"), 0x1000).str(true) == "2001:db8:8::1000");
  CHECK(strs(aggregate({cidr("198.18.1.0/25"), cidr("198.18.1.128/25"), cidr("198.18.1.5/32")})) ==
        std::vector<std::string>{"198.18.1.0/24"});
  CHECK(strs(aggregate({cidr("198.18.1.128/25"), cidr("198.18.2.0/25")})) ==
        std::vector<std::string>{"198.18.1.128/25", "198.18.2.0/25"});  // not siblings
  CHECK(strs(aggregate({cidr("198.18.1.0/28"), cidr("198.18.1.16/28"), cidr("198.18.1.32/27"), cidr("198.18.1.64/26"),
                        cidr("198.18.1.128/25"), cidr("2001:db8::/65"), cidr("2001:db8::8000:0:0:0/65")})) ==
        std::vector<std::string>{"198.18.1.0/24", "2001:db8::/64"});
}

TEST_CASE("The lab policy: one server, the extranet pushed, no IPv6 without an IPv6 pool", "[openvpn]") {
  auto c = testing::compile_repo_file("policy/lab.npol");
  REQUIRE(c->ok());
  auto servers = plan_servers(c->policy, c->diags);
  REQUIRE(servers.size() == 1);
  const auto& s = servers[0];
  CHECK(s.dir == "openvpn");
  CHECK(s.listen.str() == "udp/1194");
  CHECK(s.pool4.str() == "198.18.8.0/24");
  CHECK_FALSE(s.pool6);
  CHECK(strs(s.routes) == std::vector<std::string>{"198.18.10.0/24"});
  REQUIRE(s.unrouted.size() == 1);
  CHECK(s.unrouted[0] == "the IPv6 networks of extranet (the pool has no IPv6 network)");
  CHECK(s.clients.empty());
  CHECK_FALSE(s.client_to_client);
  CHECK_FALSE(s.pool_to_pool_partly);
  CHECK_FALSE(c->diags.has_errors());
}

TEST_CASE("Routes are the route list's exact networks: nested zones carved out, hosts as /32", "[openvpn]") {
  auto p = plan(policy("route lan\nroute gw"));
  REQUIRE(p.servers.size() == 1);
  // lan minus its nested zone servers (198.18.1.16/28); the IPv6 net is not pushed (v4 pool).
  CHECK(strs(p.servers[0].routes) == std::vector<std::string>{"198.18.1.0/28", "198.18.1.32/27", "198.18.1.64/26",
                                                              "198.18.1.128/25", "198.18.10.10/32"});
  // lan and servers together are the whole /24 again.
  auto q = plan(policy("route lan, servers"));
  CHECK(strs(q.servers[0].routes) == std::vector<std::string>{"198.18.1.0/24"});
  // With an IPv6 pool the IPv6 networks are pushed too.
  auto r = plan(policy("route dmz", "", "198.18.8.0/24, 2001:db8:8::/64"));
  CHECK(strs(r.servers[0].routes) == std::vector<std::string>{"198.18.10.0/24", "2001:db8:10::/64"});
  CHECK(r.servers[0].unrouted.empty());
}

TEST_CASE("A route to the pool itself pushes nothing: the pool is on the tunnel", "[openvpn]") {
  auto p = plan(policy("route vpn, dmz"));
  CHECK(strs(p.servers[0].routes) == std::vector<std::string>{"198.18.10.0/24"});
  bool noted = false;
  for (const auto& u : p.servers[0].unrouted) noted = noted || u == "vpn (inside the pool: on the tunnel already)";
  CHECK(noted);
}

TEST_CASE("Hosts of the pool zone are clients with fixed addresses kept out of the dynamic pool", "[openvpn]") {
  auto p = plan(policy("route dmz", R"(
host laptop in vpn
host phone in vpn
address laptop 198.18.8.50
address phone 198.18.8.200
)"));
  REQUIRE(p.servers.size() == 1);
  const auto& s = p.servers[0];
  REQUIRE(s.clients.size() == 2);
  CHECK(s.clients[0].name == "laptop");
  CHECK(s.clients[0].v4.str(true) == "198.18.8.50");
  CHECK(s.clients[1].name == "phone");
  // free runs: .2-.49 (48), .51-.199 (149), .201-.254 (54): the longest one
  CHECK(v4_text(s.dynamic_first) == "198.18.8.51");
  CHECK(v4_text(s.dynamic_last) == "198.18.8.199");
  CHECK_FALSE(s.dynamic6_base);
}

TEST_CASE("A dual-stack pool with clients: the IPv6 dynamic pool starts at ::1000, fixed addresses below", "[openvpn]") {
  auto p = plan(policy("route dmz", R"(
host laptop in vpn
address laptop 198.18.8.50, 2001:db8:8::50
)",
                       "198.18.8.0/24, 2001:db8:8::/64"));
  REQUIRE(p.servers.size() == 1);
  const auto& s = p.servers[0];
  REQUIRE(s.clients.size() == 1);
  CHECK(s.clients[0].v6->str(true) == "2001:db8:8::50");
  REQUIRE(s.dynamic6_base);
  CHECK(s.dynamic6_base->str(true) == "2001:db8:8::1000");
  CHECK(v4_text(s.dynamic_first) == "198.18.8.51");
  CHECK(v4_text(s.dynamic_last) == "198.18.8.254");
}

TEST_CASE("Per-client routes: what only that client may reach, beyond the server's routes", "[openvpn]") {
  auto p = plan(policy("route dmz", R"(
host laptop in vpn
host phone in vpn
address laptop 198.18.8.50
address phone 198.18.8.60
service https tcp/443
service smb tcp/445
allow laptop -> nas : smb
allow laptop -> internet : https
allow vpn -> gw : https
allow phone -> laptop : https
)"));
  REQUIRE(p.servers.size() == 1);
  const auto& s = p.servers[0];
  REQUIRE(s.clients.size() == 2);
  const auto& laptop = s.clients[0];
  CHECK(strs(laptop.routes) == std::vector<std::string>{"198.18.1.5/32"});  // nas; gw is in the dmz route
  REQUIRE(laptop.route_rules.size() == 1);
  CHECK(p.c->policy.rules[static_cast<std::size_t>(laptop.route_rules[0])].text == "allow laptop -> nas : smb");
  REQUIRE(laptop.unrouted.size() == 1);
  CHECK(laptop.unrouted[0].find("internet") == 0);
  CHECK(laptop.unrouted[0].find("catch-all") != std::string::npos);
  // phone -> laptop stays inside the pool: no route
  CHECK(s.clients[1].routes.empty());
}

TEST_CASE("A client excepted by an earlier deny gets no route from the zone's later allow", "[openvpn]") {
  auto p = plan(policy("route dmz", R"(
host laptop in vpn
host phone in vpn
address laptop 198.18.8.50
address phone 198.18.8.60
service smb tcp/445
deny laptop -> nas : any
allow vpn -> nas : smb
)"));
  const auto& s = p.servers[0];
  CHECK(s.clients[0].routes.empty());                                               // laptop: denied
  CHECK(strs(s.clients[1].routes) == std::vector<std::string>{"198.18.1.5/32"});   // phone: allowed, unrouted server-wide
}

TEST_CASE("client-to-client only when the pool may reach itself on every service", "[openvpn]") {
  auto none = plan(policy("route dmz"));
  CHECK_FALSE(none.servers[0].client_to_client);
  CHECK_FALSE(none.servers[0].pool_to_pool_partly);

  auto all = plan(policy("route dmz", "allow vpn -> vpn : any\n"));
  CHECK(all.servers[0].client_to_client);
  CHECK_FALSE(all.servers[0].pool_to_pool_partly);

  auto some = plan(policy("route dmz", "service ssh tcp/22\nallow vpn -> vpn : ssh\n"));
  CHECK_FALSE(some.servers[0].client_to_client);
  CHECK(some.servers[0].pool_to_pool_partly);

  // Every service, but one client is denied first: not every client may reach every other.
  auto holes = plan(policy("route dmz", R"(
host laptop in vpn
address laptop 198.18.8.50
deny vpn -> laptop : tcp/22
allow vpn -> vpn : any
)"));
  CHECK_FALSE(holes.servers[0].client_to_client);
  CHECK(holes.servers[0].pool_to_pool_partly);

  // With clients, `any` still covers every pair of atoms (clients and the rest of the pool).
  auto clients = plan(policy("route dmz", R"(
host laptop in vpn
address laptop 198.18.8.50
allow vpn -> vpn : any
)"));
  CHECK(clients.servers[0].client_to_client);
}

TEST_CASE("E730: a pool OpenVPN cannot serve", "[openvpn]") {
  // IPv6 alone (the core refuses it too, E406: IR built by hand)
  {
    auto p = plan(policy("route dmz"));
    auto copy = p.c->policy;
    copy.zones[static_cast<std::size_t>(copy.vpns[0].pool)].networks = {cidr("2001:db8:8::/64")};
    Diagnostics d;
    CHECK(plan_servers(copy, d).empty());
    REQUIRE(d.all().size() == 1);
    CHECK(d.all()[0].code == "E730");
    CHECK(d.all()[0].message.find("no IPv4 network") != std::string::npos);
  }
  // too small for `server` with dev tun
  auto small = plan(policy("route dmz", "", "198.18.8.0/30"));
  CHECK(errors(small) == std::vector<std::string>{"E730"});
  // too large
  auto large = plan(policy("route dmz", "", "198.16.0.0/15"));
  CHECK(errors(large) == std::vector<std::string>{"E730"});
  // an IPv6 network server-ipv6 refuses
  auto v6big = plan(policy("route dmz", "", "198.18.8.0/24, 2001:db8:8::/56"));
  CHECK(errors(v6big) == std::vector<std::string>{"E730"});
  // a nested zone inside the pool
  auto nested = plan(policy("route dmz", "zone admins in vpn\naddress admins 198.18.8.0/28\n"));
  CHECK(errors(nested) == std::vector<std::string>{"E730"});
  // the message is at the vpn statement
  REQUIRE(small.codes.size() >= 1);
  CHECK(small.codes[0].rfind("E730@17:1", 0) == 0);
}

TEST_CASE("E731: a listener that is not one udp or tcp port (IR built by hand)", "[openvpn]") {
  auto p = plan(policy("route dmz"));
  auto policy_copy = p.c->policy;
  policy_copy.vpns[0].listen = ir::ServicePort{ir::Proto::icmp, {8, 8}};
  Diagnostics d;
  CHECK(plan_servers(policy_copy, d).empty());
  REQUIRE(d.all().size() == 1);
  CHECK(d.all()[0].code == "E731");
  policy_copy.vpns[0].listen = ir::ServicePort{ir::Proto::udp, {1194, 1195}};
  Diagnostics d2;
  CHECK(plan_servers(policy_copy, d2).empty());
  CHECK(d2.all().at(0).code == "E731");
}

TEST_CASE("E732: client addresses OpenVPN keeps or cannot push", "[openvpn]") {
  auto server = plan(policy("route dmz", "host laptop in vpn\naddress laptop 198.18.8.1\n"));
  CHECK(errors(server) == std::vector<std::string>{"E732"});
  CHECK(server.servers.empty());
  auto broadcast = plan(policy("route dmz", "host laptop in vpn\naddress laptop 198.18.8.255\n"));
  CHECK(errors(broadcast) == std::vector<std::string>{"E732"});
  auto no_v6 = plan(policy("route dmz", "host laptop in vpn\naddress laptop 198.18.8.50\n", "198.18.8.0/24, 2001:db8:8::/64"));
  CHECK(errors(no_v6) == std::vector<std::string>{"E732"});
  auto only_v6 = plan(policy("route dmz", "host laptop in vpn\naddress laptop 2001:db8:8::50\n", "198.18.8.0/24, 2001:db8:8::/64"));
  CHECK(errors(only_v6) == std::vector<std::string>{"E732"});
  auto in_dynamic6 = plan(policy("route dmz", "host laptop in vpn\naddress laptop 198.18.8.50, 2001:db8:8::1005\n",
                                 "198.18.8.0/24, 2001:db8:8::/64"));
  CHECK(errors(in_dynamic6) == std::vector<std::string>{"E732"});
  auto v6_server = plan(policy("route dmz", "host laptop in vpn\naddress laptop 198.18.8.50, 2001:db8:8::1\n",
                               "198.18.8.0/24, 2001:db8:8::/64"));
  CHECK(errors(v6_server) == std::vector<std::string>{"E732"});
  // just past the dynamic IPv6 pool (.51-.254 = 204 addresses: ::1000-::10cb) is fine
  auto after = plan(policy("route dmz", "host laptop in vpn\naddress laptop 198.18.8.50, 2001:db8:8::10cc\n",
                           "198.18.8.0/24, 2001:db8:8::/64"));
  CHECK(errors(after).empty());
  CHECK(after.servers.size() == 1);
}

TEST_CASE("E733: fixed addresses that leave no dynamic pool", "[openvpn]") {
  auto p = plan(policy("route dmz", R"(
host c2 in vpn
host c3 in vpn
host c4 in vpn
host c5 in vpn
host c6 in vpn
address c2 198.18.8.2
address c3 198.18.8.3
address c4 198.18.8.4
address c5 198.18.8.5
address c6 198.18.8.6
)",
                       "198.18.8.0/29"));
  CHECK(errors(p) == std::vector<std::string>{"E733"});
  CHECK(p.servers.empty());
}

TEST_CASE("E734: routing the catch-all zone", "[openvpn]") {
  auto p = plan(policy("route internet"));
  CHECK(errors(p) == std::vector<std::string>{"E734"});
  CHECK(p.servers.empty());
  auto any = plan(policy("route any"));
  CHECK(errors(any) == std::vector<std::string>{"E734"});
}

TEST_CASE("E735: certificate paths that cannot be written", "[openvpn]") {
  auto p = plan(policy("route dmz"));
  for (const char* path : {"/etc/openvpn/my ca.crt", "/etc/openvpn/ca.crt#x", "ca;crt", "\"ca\"", "c:\\ca", ""}) {
    TargetOptions o;
    o.openvpn_ca = path;
    OutputSet out;
    Diagnostics d;
    emit_openvpn(p.c->policy, o, out, d);
    INFO(path);
    CHECK(out.empty());
    REQUIRE(d.all().size() == 1);
    CHECK(d.all()[0].code == "E735");
    CHECK(d.all()[0].message.find("--openvpn-ca") != std::string::npos);
  }
}

TEST_CASE("E736 and E737: two VPNs on one host, or sharing one pool", "[openvpn]") {
  auto host = plan(policy("route dmz", R"(
zone vpn2
address vpn2 198.18.9.0/24
vpn second on gw {
  listen udp/1195 from internet
  pool vpn2
}
)"));
  CHECK(errors(host) == std::vector<std::string>{"E736"});
  CHECK(host.servers.size() == 1);  // the first one is still planned, the output is dropped by the driver
  auto pool = plan(policy("route dmz", R"(
host gw2 in dmz { vmid 102 }
address gw2 198.18.10.11
vpn second on gw2 {
  listen udp/1195 from internet
  pool vpn
}
)"));
  CHECK(errors(pool) == std::vector<std::string>{"E737"});
}

TEST_CASE("Several VPNs: one folder each", "[openvpn]") {
  auto c = testing::compile_repo_file("tests/golden/openvpn/multi.npol");
  REQUIRE(c->ok());
  OutputSet out;
  emit_openvpn(c->policy, {}, out, c->diags);
  CHECK_FALSE(c->diags.has_errors());
  std::vector<std::string> paths;
  for (const auto& [path, text] : out) paths.push_back(path);
  CHECK(paths == std::vector<std::string>{"openvpn/guests/server.conf", "openvpn/staff/server.conf"});
}

TEST_CASE("The whole pipeline writes the files, or none when the target refuses", "[openvpn]") {
  auto ok = testing::compile_repo_file("policy/lab.npol");
  auto out = build_outputs(*ok);
  CHECK(out.count("openvpn/server.conf"));
  auto bad = testing::compile_text(policy("route internet"));
  REQUIRE(bad->ok());
  CHECK(build_outputs(*bad).empty());
  CHECK(testing::rendered(*bad).find("error[E734]") != std::string::npos);
}
