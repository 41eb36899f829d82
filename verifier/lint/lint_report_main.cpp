// netpol_lint_report POLICY text|json|sarif [--werror]: what `netpolc check --format F` prints once
// wired (verifier/lint/README.md): check, lint, one rendering to standard output. Exit 1 on an error,
// or on a warning with --werror. A test tool (the SARIF schema test runs it), not installed.
#include <cstdio>
#include <iostream>
#include <string>

#include "file_reader.h"
#include "lint.h"
#include "report_formats.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: netpol_lint_report POLICY text|json|sarif [--werror]\n";
    return 2;
  }
  std::string format = argv[2];
  bool werror = argc > 3 && std::string(argv[3]) == "--werror";
  netpol::DiskFileReader reader;
  auto c = netpol::check_policy(argv[1], reader);
  if (c->checked) netpol::lint_policy(c->policy, c->diags);
  if (format == "json") {
    std::cout << netpol::diagnostics_json(*c);
  } else if (format == "sarif") {
    std::cout << netpol::diagnostics_sarif(*c);
  } else {
    for (const auto& d : c->diags.sorted()) std::cerr << netpol::render(d, c->sources, false);
  }
  bool failed = c->diags.has_errors() || (werror && c->diags.warning_count() > 0);
  return failed ? 1 : 0;
}
