#pragma once
// The compose audit's outputs: a table of every port and the findings as netpolc prints
// diagnostics (text), the same as JSON ("netpol-compose-audit/1") and as a SARIF 2.1.0 log.
// JSON and SARIF reuse verifier/lint/report_formats.h: the findings are ordinary Diagnostics
// over a SourceSet that holds the compose files.
#include <string>
#include <vector>

#include "compose_audit.h"
#include "pipeline.h"

namespace netpol::compose {

struct FileAudit {
  std::string host;
  int file = -1;  // in the audit's SourceSet
  int services = 0;
  bool readable = false;
  std::vector<PortReport> ports;
};

struct ComposeAudit {
  std::string policy;    // the policy's entry file name
  Compilation findings;  // sources: the compose files; diags: the findings (the policy is not kept)
  std::vector<FileAudit> files;
};

// One block per file: the host, the file, then a line per port with its verdict.
std::string compose_table(const ComposeAudit& audit);
// Every finding rendered as netpolc renders diagnostics, then "1 error, 2 warnings" when any.
std::string compose_findings(const ComposeAudit& audit, bool color);
// diagnostics_json's keys plus "format", "policy", "files" and "ports"; docs/audit.md.
std::string compose_json(const ComposeAudit& audit);
// diagnostics_sarif, with the compose codes' own rule descriptions.
std::string compose_sarif(const ComposeAudit& audit);

}  // namespace netpol::compose
