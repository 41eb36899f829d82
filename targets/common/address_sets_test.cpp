#include "address_sets.h"

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace netpol;

namespace {
std::vector<std::string> strs(const std::vector<Cidr>& list) {
  std::vector<std::string> out;
  for (const auto& c : list) out.push_back(c.str());
  return out;
}
Cidr cidr(const char* text) { return *parse_cidr(text).cidr; }

const char* kPolicy = R"(
zone lan
zone servers in lan
zone dmz
zone internet
address lan 198.18.1.0/24, 2001:db8:1::/64
address servers 198.18.1.16/28
address dmz 198.18.2.0/24
address internet 0.0.0.0/0, ::/0
host nas in lan
address nas 198.18.1.5
allow lan -> dmz : tcp/80
)";
}  // namespace

TEST_CASE("Subtracting networks leaves exact disjoint networks", "[address_sets]") {
  CHECK(strs(subtract({cidr("198.18.1.0/24")}, {cidr("198.18.1.16/28")})) ==
        std::vector<std::string>{"198.18.1.0/28", "198.18.1.32/27", "198.18.1.64/26", "198.18.1.128/25"});
  CHECK(subtract({cidr("198.18.1.0/24")}, {cidr("198.18.0.0/16")}).empty());
  CHECK(strs(subtract({cidr("198.18.1.0/24")}, {cidr("198.18.2.0/24")})) == std::vector<std::string>{"198.18.1.0/24"});
  CHECK(strs(subtract({cidr("2001:db8::/126")}, {cidr("2001:db8::1/128")})) ==
        std::vector<std::string>{"2001:db8::/128", "2001:db8::2/127"});
}

TEST_CASE("A zone's set excludes its nested zones and excepted hosts", "[address_sets]") {
  auto c = testing::compile_text(kPolicy);
  INFO(testing::rendered(*c));
  REQUIRE(c->ok());
  ir::FlowEnd lan{{ir::Endpoint::Kind::zone, *c->policy.find_zone("lan")}, {}};
  auto set = address_set(c->policy, lan);
  CHECK(strs(set.include) == std::vector<std::string>{"198.18.1.0/24", "2001:db8:1::/64"});
  CHECK(strs(set.exclude) == std::vector<std::string>{"198.18.1.16/28"});
  lan.except_hosts = {*c->policy.find_host("nas")};
  CHECK(strs(address_set(c->policy, lan).exclude) == std::vector<std::string>{"198.18.1.5/32", "198.18.1.16/28"});
}

TEST_CASE("The catch-all zone is two halves minus every other zone", "[address_sets]") {
  auto c = testing::compile_text(kPolicy);
  REQUIRE(c->ok());
  auto set = address_set(c->policy, {{ir::Endpoint::Kind::zone, *c->policy.find_zone("internet")}, {}});
  CHECK(strs(set.include) == std::vector<std::string>{"0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1"});
  // servers lies inside lan: only the outer networks need excluding.
  CHECK(strs(set.exclude) == std::vector<std::string>{"198.18.1.0/24", "198.18.2.0/24", "2001:db8:1::/64"});
  auto networks = disjoint_cidrs(set);
  for (const auto& n : networks) {
    CHECK_FALSE(n.overlaps(cidr("198.18.1.0/24")));
    CHECK_FALSE(n.overlaps(cidr("198.18.2.0/24")));
    CHECK(n.prefix > 0);
  }
  CHECK(std::any_of(networks.begin(), networks.end(), [](const Cidr& n) { return n.contains(*parse_cidr("8.8.8.8").cidr); }));
}

TEST_CASE("A nested zone on its parent's exact network leaves the parent empty, not whole", "[address_sets]") {
  auto c = testing::compile_text(R"(
zone lan
zone same in lan
address lan 198.18.1.0/24
address same 198.18.1.0/24
allow lan -> same : tcp/80
)");
  INFO(testing::rendered(*c));
  REQUIRE(c->ok());
  auto set = address_set(c->policy, {{ir::Endpoint::Kind::zone, *c->policy.find_zone("lan")}, {}});
  CHECK(set.include.empty());
  CHECK(set.exclude.empty());
  CHECK(disjoint_cidrs(set).empty());
  auto same = address_set(c->policy, {{ir::Endpoint::Kind::zone, *c->policy.find_zone("same")}, {}});
  CHECK(strs(same.include) == std::vector<std::string>{"198.18.1.0/24"});
}
