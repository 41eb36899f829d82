#include "ip.h"

#include <catch2/catch.hpp>

using netpol::parse_cidr;

TEST_CASE("CIDRs parse strictly and print canonically", "[ip]") {
  CHECK(parse_cidr("198.18.1.0/24").cidr->str() == "198.18.1.0/24");
  CHECK(parse_cidr("198.18.1.5").cidr->str() == "198.18.1.5/32");
  CHECK(parse_cidr("198.18.1.5").cidr->str(true) == "198.18.1.5");
  CHECK(parse_cidr("2001:DB8:0:0::/64").cidr->str() == "2001:db8::/64");
  CHECK(parse_cidr("::/0").cidr->prefix == 0);
}

TEST_CASE("Host bits, bad prefixes and non-addresses are refused", "[ip]") {
  auto host_bits = parse_cidr("198.18.1.5/24");
  CHECK_FALSE(host_bits.cidr);
  REQUIRE(host_bits.canonical);
  CHECK(host_bits.canonical->str() == "198.18.1.0/24");
  CHECK_FALSE(parse_cidr("198.18.1.0/33").cidr);
  CHECK_FALSE(parse_cidr("198.18.1.0/").cidr);
  CHECK_FALSE(parse_cidr("198.18.1.0/x").cidr);
  CHECK_FALSE(parse_cidr("198.18.1").cidr);
  CHECK_FALSE(parse_cidr("198.018.1.1").cidr);
  CHECK_FALSE(parse_cidr("lan").cidr);
  CHECK_FALSE(parse_cidr("2001:db8::/129").cidr);
}

TEST_CASE("Containment and overlap respect families and prefixes", "[ip]") {
  auto net = *parse_cidr("198.18.1.0/24").cidr;
  auto sub = *parse_cidr("198.18.1.16/28").cidr;
  auto other = *parse_cidr("198.18.2.0/24").cidr;
  auto v6 = *parse_cidr("::/0").cidr;
  CHECK(net.contains(sub));
  CHECK_FALSE(sub.contains(net));
  CHECK(sub.overlaps(net));
  CHECK_FALSE(net.overlaps(other));
  CHECK_FALSE(v6.contains(net));
  CHECK(parse_cidr("0.0.0.0/0").cidr->contains(other));
}
