#pragma once
// `netpolc explain POLICY SOURCE DEST PORT/PROTO`: the verdict of one flow, the policy rule that
// decides it (or the default deny), and the exact lines each target emitted for that rule.
// netpolc.cpp adds the subcommand, compiles the policy, and hands the compilation here.
// See docs/explain.md.
#include <CLI/CLI.hpp>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "ip.h"
#include "ir.h"
#include "pipeline.h"

namespace netpol {

struct ExplainCommand {
  std::string policy;
  std::string source;       // a zone or host name, or an address
  std::string destination;  // a zone or host name, or an address
  std::string service;      // "443/tcp", "tcp/443", "icmp", "icmp/echo-request", "icmp/8"
};

// Adds `explain POLICY SOURCE DEST PORT/PROTO`; returns the subcommand.
CLI::App* add_explain_command(CLI::App& app, ExplainCommand& options);

// Exit codes of run_explain_command.
inline constexpr int kExplainAllowed = 0;
inline constexpr int kExplainDenied = 1;
inline constexpr int kExplainUsage = 2;         // a name or address that resolves to nothing, a bad PORT/PROTO
inline constexpr int kExplainPolicyErrors = 3;  // the policy did not check cleanly: nothing to explain

// Prints the explanation of one flow of a checked policy (see the exit codes above).
int run_explain_command(const ExplainCommand& options, Compilation& c, std::ostream& out, std::ostream& err);

// ---- the pieces, for tests ------------------------------------------------------------------

// One end of the question: what SOURCE or DEST resolved to.
struct ExplainEnd {
  ir::Endpoint endpoint;
  std::optional<Cidr> address;  // set when the argument was an address
};

struct EndResolution {
  std::optional<ExplainEnd> end;
  std::string error;       // why it resolves to nothing
  std::string suggestion;  // a close name, or empty
};

// A host or zone name; or an address: the host that has it, else the most specific zone containing it.
EndResolution resolve_explain_end(const ir::Policy& policy, const std::string& text);

struct ExplainPort {
  ir::Proto proto = ir::Proto::tcp;
  std::uint16_t port = 0;  // the icmp type for icmp (echo-request when not given)
};

// "443/tcp", "tcp/443", "udp/53", "icmp", "icmp/echo-request", "icmp/8"; nullopt when malformed.
std::optional<ExplainPort> parse_explain_port(const std::string& text);

struct EmittedLine {
  std::string file;  // as in build_outputs: "proxmox/cluster.fw"
  int line = 0;      // 1-based
  std::string text;  // the line as emitted (a summary for npm/proxy-hosts.json)
};

struct Explanation {
  ExplainEnd source;
  ExplainEnd destination;
  ExplainPort port;
  bool allowed = false;
  int rule = -1;  // the deciding rule, -1 for the default deny
  std::vector<EmittedLine> emitted;
};

// Decides the flow with the resolved matrix and finds the emitted lines in `outputs`.
Explanation explain_flow(const ir::Policy& policy, const OutputSet& outputs, const ExplainEnd& source,
                         const ExplainEnd& destination, const ExplainPort& port);

}  // namespace netpol
