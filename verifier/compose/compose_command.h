#pragma once
// `netpolc audit POLICY --compose [[HOST=]FILE...]`: which host each compose file belongs to,
// reading the files, auditing them, printing. audit_command.cpp parses the options and calls here.
#include <iosfwd>
#include <string>
#include <vector>

#include "pipeline.h"

namespace netpol::compose {

struct ComposeCommand {
  std::string policy;              // the policy path as given: declared compose files are relative to its folder
  std::vector<std::string> files;  // HOST=FILE or FILE; empty: every compose file the policy declares
  std::string format = "text";     // text, json, sarif
  bool werror = false;             // warnings fail too
  bool color = false;
};

struct ComposeTarget {
  int host = -1;
  std::string path;  // to open and to show
};

// The host of each file: HOST=FILE; a FILE a host declares; else the one host with `docker`.
// Empty with `error` set when a file's host cannot be told.
std::vector<ComposeTarget> compose_targets(const ComposeCommand& options, const ir::Policy& policy, std::string& error);

// 0 no error-level finding (no finding with --werror), 1 findings, 2 usage errors: a host that
// cannot be told, a file that cannot be read, or is not YAML (E900).
int run_compose_audit(const ComposeCommand& options, const Compilation& policy, std::ostream& out, std::ostream& err);

}  // namespace netpol::compose
