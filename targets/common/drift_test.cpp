#include "drift.h"

#include <catch2/catch.hpp>

using namespace netpol;

namespace {
EnforcedRule rule(const char* src, const char* dst, ir::Proto proto, int first, int last) {
  return {"ufw/web", "in", *parse_cidr(src).cidr, *parse_cidr(dst).cidr, proto,
          {static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last)}, ""};
}
}  // namespace

TEST_CASE("Rules split differently but allowing the same packets do not drift", "[drift]") {
  std::vector<EnforcedRule> one{rule("198.18.1.0/24", "198.18.2.10", ir::Proto::tcp, 80, 90)};
  std::vector<EnforcedRule> split{rule("198.18.1.0/25", "198.18.2.10", ir::Proto::tcp, 80, 85),
                                  rule("198.18.1.128/25", "198.18.2.10", ir::Proto::tcp, 80, 85),
                                  rule("198.18.1.0/24", "198.18.2.10", ir::Proto::tcp, 86, 90)};
  CHECK(compare(one, split).empty());
  CHECK(compare(split, one).empty());
}

TEST_CASE("Missing, extra and changed rules are told apart", "[drift]") {
  std::vector<EnforcedRule> expected{rule("198.18.1.0/24", "198.18.2.10", ir::Proto::tcp, 22, 22),
                                     rule("198.18.3.0/24", "198.18.2.10", ir::Proto::tcp, 443, 443)};
  std::vector<EnforcedRule> deployed{rule("198.18.1.0/24", "198.18.2.10", ir::Proto::tcp, 2222, 2222),
                                     rule("198.18.9.0/24", "198.18.2.10", ir::Proto::tcp, 5432, 5432)};
  auto d = compare(expected, deployed);
  REQUIRE(d.changed.size() == 1);
  CHECK(d.changed[0].first.ports.first == 22);
  CHECK(d.changed[0].second.ports.first == 2222);
  REQUIRE(d.missing.size() == 1);
  CHECK(d.missing[0].ports.first == 443);
  REQUIRE(d.extra.size() == 1);
  CHECK(d.extra[0].ports.first == 5432);
  CHECK(drift_text(d).find("extra:   ufw/web in 198.18.9.0/24 -> 198.18.2.10/32 tcp/5432") != std::string::npos);
}

TEST_CASE("A wider deployed rule is extra even when it covers the expected one", "[drift]") {
  std::vector<EnforcedRule> expected{rule("198.18.1.0/24", "198.18.2.10", ir::Proto::tcp, 80, 80)};
  std::vector<EnforcedRule> deployed{rule("0.0.0.0/0", "198.18.2.10", ir::Proto::tcp, 80, 80)};
  auto d = compare(expected, deployed);
  CHECK(d.missing.empty());
  REQUIRE(d.extra.size() == 1);
}
