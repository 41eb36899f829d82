#pragma once
// The reports of one run, from its cells (in any order; every report sorts them, so the same run
// always prints the same bytes): the matrix a person reads, JSON, JUnit for CI dashboards, and
// Prometheus metrics for the home lab's own monitoring. Names may hold anything: every format
// escapes them (invalid UTF-8 becomes U+FFFD, control characters never reach a terminal).
#include <cstddef>
#include <string>
#include <vector>

#include "cell.h"

namespace netpol::live {

struct RunFacts {
  std::string policy;         // the policy file as given
  std::string policy_sha256;
  std::string mode;           // "lab" or "node"
  std::size_t probes = 0;
  double seconds = 0;         // wall time of the probing; rate = probes / seconds
  std::string started_utc;    // ISO 8601 in UTC, "2024-05-01T12:00:00Z"
};

// Summary line, violations (one line each), inconclusive cells, then the matrix per layer and
// source: rows are destinations, columns ports. ANSI colour only when `colour`.
std::string render_text(const std::vector<Cell>& cells, const RunFacts& facts, bool colour);
std::string render_json(const std::vector<Cell>& cells, const RunFacts& facts);
// One <testsuite> per layer, one <testcase> per cell: violations fail, inconclusive cells are skipped.
std::string render_junit(const std::vector<Cell>& cells, const RunFacts& facts);
// Prometheus text exposition format, for node_exporter's textfile collector. The caller writes it
// atomically (a temporary file in the same directory, then rename), or the collector may read half.
std::string render_metrics(const std::vector<Cell>& cells, const RunFacts& facts);

}  // namespace netpol::live
