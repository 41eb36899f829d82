#include "cell.h"

#include <catch2/catch.hpp>

using namespace netpol::live;

namespace {

Cell cell(bool allowed, Verdict observed) {
  Cell c;
  c.source = "lan";
  c.destination = "vm-intranet";
  c.port = 5432;
  c.expected_allowed = allowed;
  c.observed = observed;
  return c;
}

}  // namespace

TEST_CASE("names of verdicts and protocols are the ones the reports print", "[cell]") {
  CHECK(to_string(Verdict::delivered) == "delivered");
  CHECK(to_string(Verdict::blocked) == "blocked");
  CHECK(to_string(Verdict::nothing_listening) == "nothing-listening");
  CHECK(to_string(Verdict::inconclusive) == "inconclusive");
  CHECK(to_string(L4::tcp) == "tcp");
  CHECK(to_string(L4::udp) == "udp");
}

TEST_CASE("every expectation x observation is proven, a violation, or neither, never both", "[cell]") {
  struct Row {
    bool allowed;
    Verdict observed;
    bool proven;
    bool violation;
  };
  const Row table[] = {
      {true, Verdict::delivered, true, false},
      {true, Verdict::nothing_listening, true, false},  // the firewalls let it through
      {true, Verdict::blocked, false, true},
      {true, Verdict::inconclusive, false, false},
      {false, Verdict::blocked, true, false},
      {false, Verdict::delivered, false, true},
      {false, Verdict::nothing_listening, false, true},  // passed a firewall that should stop it
      {false, Verdict::inconclusive, false, false},
  };
  for (const auto& row : table) {
    INFO((row.allowed ? "allowed, " : "forbidden, ") << to_string(row.observed));
    const Cell c = cell(row.allowed, row.observed);
    CHECK(is_proven(c) == row.proven);
    CHECK(is_violation(c) == row.violation);
  }
}

TEST_CASE("exit code: 1 on any violation, else 3 on any inconclusive cell, else 0", "[cell]") {
  const Cell proven_allowed = cell(true, Verdict::delivered);
  const Cell proven_forbidden = cell(false, Verdict::blocked);
  const Cell unknown = cell(true, Verdict::inconclusive);
  const Cell hole = cell(false, Verdict::delivered);
  const Cell outage = cell(true, Verdict::blocked);

  CHECK(exit_code_for({}) == 0);
  CHECK(exit_code_for({proven_allowed, proven_forbidden}) == 0);
  CHECK(exit_code_for({proven_allowed, unknown}) == 3);
  CHECK(exit_code_for({unknown, unknown}) == 3);
  CHECK(exit_code_for({proven_allowed, hole}) == 1);
  CHECK(exit_code_for({outage}) == 1);
  // A violation outranks inconclusive cells, wherever it sits in the list.
  CHECK(exit_code_for({unknown, proven_forbidden, hole}) == 1);
  CHECK(exit_code_for({hole, unknown}) == 1);
}
