#include "matrix.h"

#include <catch2/catch.hpp>

#include "matrix_text.h"
#include "test_support.h"

using namespace netpol;

namespace {
const char* kTopology = R"(
zone lan
zone dmz
address lan 198.18.1.0/24
address dmz 198.18.2.0/24
host web in dmz
host db in dmz
address web 198.18.2.10
address db 198.18.2.11
)";

std::vector<std::string> rows(const Compilation& c) {
  std::vector<std::string> out;
  for (const auto& f : c.policy.flows)
    out.push_back(c.policy.describe(f.source) + " -> " + c.policy.describe(f.destination) + " " +
                  ir::ServicePort{f.proto, f.ports}.str() + " #" + std::to_string(f.rule));
  return out;
}
}  // namespace

TEST_CASE("A rule that applies whole stays one row", "[matrix]") {
  auto c = testing::compile_text(std::string(kTopology) + "allow lan -> dmz : tcp/443\n");
  REQUIRE(c->ok());
  CHECK(rows(*c) == std::vector<std::string>{"lan -> dmz tcp/443 #0"});
}

TEST_CASE("First match wins: an earlier deny carves a host out of a zone rule", "[matrix]") {
  auto c = testing::compile_text(std::string(kTopology) + "deny lan -> db : any\nallow lan -> dmz : tcp/5000-5010\n");
  REQUIRE(c->ok());
  CHECK(rows(*c) == std::vector<std::string>{"lan -> dmz (other than web, db) tcp/5000-5010 #1", "lan -> web tcp/5000-5010 #1"});
  Matrix m(c->policy);
  ir::Endpoint lan{ir::Endpoint::Kind::zone, 0}, db{ir::Endpoint::Kind::host, 1}, web{ir::Endpoint::Kind::host, 0};
  CHECK_FALSE(m.decide(lan, db, ir::Proto::tcp, 5005).allowed);
  CHECK(m.decide(lan, db, ir::Proto::tcp, 5005).rule == 0);
  CHECK(m.decide(lan, web, ir::Proto::tcp, 5005).allowed);
  CHECK_FALSE(m.decide(lan, web, ir::Proto::tcp, 5011).allowed);
  CHECK(m.decide(lan, web, ir::Proto::tcp, 5011).rule == -1);  // the default deny
}

TEST_CASE("A later rule only decides the ports earlier rules left open", "[matrix]") {
  auto c = testing::compile_text(std::string(kTopology) +
                                 "allow lan -> web : tcp/100-200\ndeny lan -> web : tcp/150-300\nallow lan -> web : tcp/1-1000\n");
  REQUIRE(c->ok());
  CHECK(rows(*c) == std::vector<std::string>{"lan -> web tcp/100-200 #0", "lan -> web tcp/1-99 #2", "lan -> web tcp/301-1000 #2"});
}

TEST_CASE("'any' as a source is every zone; as a service tcp, udp and icmp", "[matrix]") {
  auto c = testing::compile_text(std::string(kTopology) + "allow any -> web : any\n");
  REQUIRE(c->ok());
  CHECK(rows(*c) == std::vector<std::string>{
                        "lan -> web tcp/1-65535 #0", "lan -> web udp/1-65535 #0", "lan -> web icmp #0",
                        "dmz -> web tcp/1-65535 #0", "dmz -> web udp/1-65535 #0", "dmz -> web icmp #0"});
}

TEST_CASE("A nested zone is not part of its parent as an endpoint", "[matrix]") {
  auto c = testing::compile_text(R"(
zone lan
zone servers in lan
address lan 198.18.1.0/24
address servers 198.18.1.16/28
zone dmz
address dmz 198.18.2.0/24
allow lan -> dmz : tcp/80
)");
  REQUIRE(c->ok());
  Matrix m(c->policy);
  ir::Endpoint lan{ir::Endpoint::Kind::zone, 0}, servers{ir::Endpoint::Kind::zone, 1}, dmz{ir::Endpoint::Kind::zone, 2};
  CHECK(m.decide(lan, dmz, ir::Proto::tcp, 80).allowed);
  CHECK_FALSE(m.decide(servers, dmz, ir::Proto::tcp, 80).allowed);
}

TEST_CASE("A never invariant names the allow that breaks it and a concrete flow", "[matrix][invariants]") {
  auto c = testing::compile_text(std::string(kTopology) + "never any -> db : tcp/5432\nallow lan -> dmz : tcp/5000-6000\n");
  CHECK(testing::codes(*c) == std::vector<std::string>{"E401@11:1"});
  auto text = testing::rendered(*c);
  CHECK_THAT(text, Catch::Contains("this allows tcp/5432 from lan to db, which an invariant forbids"));
  CHECK_THAT(text, Catch::Contains("note: the invariant: never any -> db : tcp/5432"));
}

TEST_CASE("A deny above an allow keeps the invariant", "[matrix][invariants]") {
  auto c = testing::compile_text(std::string(kTopology) +
                                 "never any -> db : tcp/5432\ndeny any -> db : tcp/5432\nallow lan -> dmz : tcp/5000-6000\n");
  INFO(testing::rendered(*c));
  CHECK(c->ok());
}

TEST_CASE("A published name is two flows; a VPN listener one", "[matrix]") {
  auto c = testing::compile_text(std::string(kTopology) + R"(
zone vpn
address vpn 198.18.8.0/24
service app tcp/8080
publish app.example.test on web -> db:app { tls from lan }
vpn remote on web { listen udp/1194 from lan  pool vpn  route dmz }
)");
  INFO(testing::rendered(*c));
  REQUIRE(c->ok());
  CHECK(rows(*c) == std::vector<std::string>{"lan -> web tcp/443 #0", "web -> db tcp/8080 #1", "lan -> web udp/1194 #2"});
}

TEST_CASE("A VPN flow no pushed route reaches is a warning, not an error", "[matrix][vpn]") {
  auto c = testing::compile_text(R"(
zone dmz
zone backends
zone vpn
address dmz 198.18.10.0/24
address backends 198.18.2.0/24
address vpn 198.18.8.0/24
host gw in dmz
address gw 198.18.10.10
vpn remote on gw { listen udp/1194 from dmz  pool vpn  route dmz }
allow vpn -> gw : tcp/443
allow vpn -> backends : tcp/8096
)");
  CHECK(c->ok());
  CHECK(testing::codes(*c) == std::vector<std::string>{"W600@12:1"});
  CHECK_THAT(testing::rendered(*c), Catch::Contains("VPN clients may reach backends, but vpn 'remote' pushes no route to it"));
}

TEST_CASE("A route to a zone also reaches the zones nested in it", "[matrix][vpn]") {
  auto c = testing::compile_text(R"(
zone lan
zone servers in lan
zone vpn
address lan 198.18.1.0/24
address servers 198.18.1.16/28
address vpn 198.18.8.0/24
host gw in lan
address gw 198.18.1.2
vpn remote on gw { listen udp/1194 from lan  pool vpn  route lan }
allow vpn -> servers : tcp/8096
)");
  CHECK(c->ok());
  CHECK(c->diags.all().empty());
}

TEST_CASE("VPN clients reaching each other need no pushed route", "[matrix][vpn]") {
  auto c = testing::compile_text(R"(
zone dmz
zone vpn
address dmz 198.18.10.0/24
address vpn 198.18.8.0/24
host gw in dmz
address gw 198.18.10.10
host laptop in vpn
address laptop 198.18.8.50
vpn remote on gw { listen udp/1194 from dmz  pool vpn  route dmz }
allow vpn -> vpn, laptop : tcp/22
)");
  CHECK(c->ok());
  CHECK(c->diags.all().empty());
}
