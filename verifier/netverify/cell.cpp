// What a cell's observation means against its expectation. The whole verdict policy of a run is
// here, so the reports and the exit code cannot disagree.
#include "cell.h"

#include <algorithm>

namespace netpol::live {


std::string to_string(Verdict v) {
  switch (v) {
    case Verdict::delivered: return "delivered";
    case Verdict::blocked: return "blocked";
    case Verdict::nothing_listening: return "nothing-listening";
    case Verdict::inconclusive: return "inconclusive";
  }
  return "inconclusive";
}

namespace {
// Nothing listening still proves the firewalls let the probe through: for an allowed flow that is
// what the policy promises, for a forbidden one it is a hole.
bool passed_the_firewalls(Verdict v) { return v == Verdict::delivered || v == Verdict::nothing_listening; }
}  // namespace

bool is_proven(const Cell& cell) {
  if (cell.observed == Verdict::inconclusive) return false;
  return cell.expected_allowed ? passed_the_firewalls(cell.observed) : cell.observed == Verdict::blocked;
}

bool is_violation(const Cell& cell) {
  if (cell.observed == Verdict::inconclusive) return false;
  return cell.expected_allowed ? cell.observed == Verdict::blocked : passed_the_firewalls(cell.observed);
}

int exit_code_for(const std::vector<Cell>& cells) {
  if (std::any_of(cells.begin(), cells.end(), is_violation)) return 1;
  const auto unproven = [](const Cell& c) { return c.observed == Verdict::inconclusive; };
  return std::any_of(cells.begin(), cells.end(), unproven) ? 3 : 0;
}

}  // namespace netpol::live
