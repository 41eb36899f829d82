#include "plan.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "test_support.h"

using namespace netpol;
using namespace netpol::live;

namespace {

const Plan::Entry* find(const Plan& plan, const std::string& src, const std::string& dst, L4 proto, std::uint16_t port) {
  for (const auto& e : plan.entries)
    if (e.cell.source == src && e.cell.destination == dst && e.cell.proto == proto && e.cell.port == port) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("zone addressing avoids hosts and nested zones", "[plan]") {
  auto c = testing::compile_repo_file("policy/lab.npol");
  REQUIRE(c->ok());
  const auto& p = c->policy;
  const auto lan = zone_addressing(p, *p.find_zone("lan"), true);
  REQUIRE(lan);
  CHECK(lan->subnet == "198.18.1.0/24");
  CHECK(lan->probe == "198.18.1.254");  // .255 is the broadcast address
  CHECK(lan->gateway == "198.18.1.1");
  const auto intranet = zone_addressing(p, *p.find_zone("intranet"), true);
  REQUIRE(intranet);
  CHECK(intranet->subnet == "198.18.1.0/24");  // its probe sits on the lan's bridge subnet
  CHECK(intranet->probe == "198.18.1.31");
  const auto internet = zone_addressing(p, *p.find_zone("internet"), true);
  REQUIRE(internet);
  CHECK(internet->subnet == "198.19.0.0/24");
  CHECK_FALSE(zone_addressing(p, *p.find_zone("internet"), false));  // never on a node
}

TEST_CASE("the lab plan: sources, destinations, ports and expectations", "[plan]") {
  auto c = testing::compile_repo_file("policy/lab.npol");
  REQUIRE(c->ok());
  const Matrix m(c->policy);
  PlanOptions o;
  o.lab = true;
  const Plan plan = make_plan(c->policy, m, o);

  std::vector<std::string> sources;
  for (const auto& s : plan.sources) sources.push_back(s.name);
  CHECK(sources == std::vector<std::string>{"lan", "intranet", "extranet", "vpn", "internet", "vm-intranet", "vm-extranet"});

  const auto has_port = [&](ir::Proto proto, std::uint16_t port) {
    return std::any_of(plan.ports.begin(), plan.ports.end(),
                       [&](const ir::ServicePort& sp) { return sp.proto == proto && sp.range.first == port; });
  };
  CHECK(has_port(ir::Proto::tcp, 8096));    // named by the policy
  CHECK(has_port(ir::Proto::tcp, 65535));   // the end of tcp/1-65535
  CHECK(has_port(ir::Proto::tcp, 6379));    // sensitive
  CHECK(has_port(ir::Proto::udp, 1194));

  const auto* e = find(plan, "extranet", "vm-intranet", L4::tcp, 8096);
  REQUIRE(e);
  CHECK(e->cell.expected_allowed);
  CHECK(e->cell.rule.find("flows.npol:51") == 0);
  e = find(plan, "lan", "vm-intranet", L4::tcp, 5432);
  REQUIRE(e);
  CHECK_FALSE(e->cell.expected_allowed);
  CHECK(e->cell.rule == "default deny");
  e = find(plan, "vm-intranet", "vm-extranet", L4::tcp, 9100);  // a host's own flow, from the VM itself
  REQUIRE(e);
  CHECK(e->cell.expected_allowed);
  e = find(plan, "intranet", "vm-extranet", L4::tcp, 9100);  // the rest of the intranet may not
  REQUIRE(e);
  CHECK_FALSE(e->cell.expected_allowed);
  e = find(plan, "lan", "pve", L4::udp, 5405);  // Proxmox's own corosync allowance
  REQUIRE(e);
  CHECK(e->cell.expected_allowed);
  CHECK(e->cell.rule.find("corosync") != std::string::npos);
  e = find(plan, "vm-intranet", "pve", L4::udp, 5405);  // the VM's policy_out DROP comes first
  REQUIRE(e);
  CHECK_FALSE(e->cell.expected_allowed);
  // Two unmanaged ends are not probed: nothing of the policy's stands between them.
  CHECK_FALSE(find(plan, "lan", "intranet", L4::tcp, 22));
  CHECK(find(plan, "vm-intranet", "internet", L4::tcp, 443));
}

TEST_CASE("the node plan probes from the bridged zones to the VMs and the node", "[plan]") {
  auto c = testing::compile_repo_file("policy/lab.npol");
  REQUIRE(c->ok());
  const Matrix m(c->policy);
  const Plan plan = make_plan(c->policy, m, {});
  std::vector<std::string> sources, destinations;
  for (const auto& s : plan.sources) sources.push_back(s.name);
  for (const auto& d : plan.destinations) destinations.push_back(d.name);
  CHECK(sources == std::vector<std::string>{"lan", "intranet", "extranet"});
  CHECK(destinations == std::vector<std::string>{"pve", "vm-intranet", "vm-extranet"});

  PlanOptions from;
  from.from = {"vpn"};
  const Plan vpn = make_plan(c->policy, m, from);
  REQUIRE(vpn.sources.size() == 1);
  CHECK(vpn.sources[0].kind == LiveEnd::Kind::vpn_client);
}

TEST_CASE("The --ports list parses tcp, udp and bare ports, and refuses the rest", "[plan]") {
  const auto ports = parse_port_list("tcp/8443,udp/500,25565");
  REQUIRE(ports.size() == 3);
  CHECK(ports[1].proto == ir::Proto::udp);
  CHECK(ports[2].range.first == 25565);
  CHECK_THROWS_WITH(parse_port_list("tcp/0"), Catch::Contains("outside 1-65535"));
  CHECK_THROWS_WITH(parse_port_list("80,,81"), Catch::Contains("empty"));
  CHECK_THROWS_WITH(parse_port_list("sctp/9"), Catch::Contains("not a port"));
}
