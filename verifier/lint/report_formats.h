#pragma once
// Machine-readable renderings of a compilation's diagnostics, for `netpolc check --format json|sarif`.
// Both list every diagnostic (compiler, targets, lint) sorted as the text output is, with the
// policy file as it was given (SourceFile::display_path). docs/diagnostics.md describes both.
#include <string>

#include "pipeline.h"

namespace netpol {

// {"tool", "version", "ok", "errors", "warnings", "diagnostics": [{code, severity, message, file,
// line, column, end_line, end_column, notes: [{message, file, line, column, end_line, end_column}],
// hints: [...]}]}. Columns count bytes from 1, as the text output; end_column is exclusive.
// A diagnostic without a place has no file/line/column keys.
std::string diagnostics_json(const Compilation& c);

// A SARIF 2.1.0 log: one run, tool.driver "netpolc" with a rule for every code used, one result
// per diagnostic (ruleId, ruleIndex, level error|warning, message, the policy file's
// physicalLocation with region startLine/startColumn/endColumn; notes as relatedLocations).
// Columns count UTF-16 code units (SARIF's default columnKind); a region is cut at its line's end.
std::string diagnostics_sarif(const Compilation& c);

}  // namespace netpol
