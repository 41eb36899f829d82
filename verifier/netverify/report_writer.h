#pragma once
// Prints the text report and writes the --json, --junit and --metrics files (each atomically: a
// temporary file beside it, then rename, so node_exporter never reads half a file).
#include <vector>

#include "cell.h"
#include "report.h"
#include "report_options.h"

namespace netpol::live {

// Returns the run's exit code (exit_code_for), or 2 when a report file cannot be written.
int write_reports(const std::vector<Cell>& cells, RunFacts facts, const RunOptions& options);

}  // namespace netpol::live
