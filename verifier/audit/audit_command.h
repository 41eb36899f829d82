#pragma once
// `netpolc audit` and `netpolc diff`: their command lines and what they print. netpolc.cpp adds the
// subcommands, compiles the policies, and hands the compilations here. See docs/audit.md.
#include <CLI/CLI.hpp>
#include <iosfwd>
#include <string>
#include <vector>

#include "pipeline.h"

namespace netpol {

struct AuditCommand {
  std::string policy;
  std::string format = "text";  // text, json, md, dot
  std::string svg;              // also draw the graph into this file with Graphviz `dot`
  bool compose = false;                    // audit Docker compose files instead (also: compose_files given)
  std::vector<std::string> compose_files{};  // --compose [HOST=]FILE...; a bare --compose: {""}, the policy's own
  bool werror = false;                     // with --compose: warnings fail too
};

// Adds `audit POLICY [--format text|json|md|dot] [--svg FILE]` and
// `audit POLICY --compose [[HOST=]FILE...] [--format text|json|sarif] [--werror]`; returns the subcommand.
CLI::App* add_audit_command(CLI::App& app, AuditCommand& options);

// Prints the exposure of a checked policy (with --compose: the compose audit, see
// verifier/compose/compose_command.h, exit 1 also for its findings). 0 ok (also when --svg is skipped because `dot` is
// absent: a note on `err`), 1 the policy has errors, 2 the SVG could not be written.
int run_audit_command(const AuditCommand& options, const Compilation& c, std::ostream& out, std::ostream& err);

struct DiffCommand {
  std::string old_policy;
  std::string new_policy;
  std::string format = "md";  // md, json
  bool fail_on_new_exposure = false;
};

// Adds `diff OLD NEW [--format md|json] [--fail-on-new-exposure]`; returns the subcommand.
CLI::App* add_diff_command(CLI::App& app, DiffCommand& options);

// Prints the semantic difference. Both compilations must have reached the matrix (`checked`);
// a policy that only breaks invariants is still compared, so a pull request that breaks one
// shows what it opens. 0 ok, 1 new exposure with --fail-on-new-exposure (or a policy that could
// not be resolved), 2 an unreadable policy file.
int run_diff_command(const DiffCommand& options, const Compilation& old_c, const Compilation& new_c, std::ostream& out,
                     std::ostream& err);

// The Graphviz `dot` on PATH, or empty.
std::string find_dot();

}  // namespace netpol
