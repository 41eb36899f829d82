// netverify: proves on a node, or in a lab built from the policy, that only the allowed flows pass.
// Exit codes: 0 every cell proven, 1 a violation, 2 a usage or tool error, 3 inconclusive cells remain.
#include <CLI/CLI.hpp>
#include <iostream>
#include <unistd.h>

#include "lab/lab.h"
#include "node_run.h"
#include "plan.h"

namespace {

using namespace netpol::live;

void add_run_options(CLI::App& app, RunOptions& run, std::string& ports, double& timeout_ms, double& max_time_s) {
  app.add_option("policy", run.policy, "The policy's entry file (.npol)")->required()->check(CLI::ExistingFile);
  app.add_option("--ports", ports, "More ports to probe on every destination: tcp/N,udp/N,N");
  app.add_option("--rate", run.prober.rate, "Probes started per second, at most")->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  app.add_option("--timeout", timeout_ms, "Milliseconds to wait for each probe's answer")
      ->check(CLI::Range(10.0, 60000.0))->capture_default_str();
  app.add_option("--max-time", max_time_s, "Hard bound on each probing pass, in seconds")
      ->check(CLI::Range(1.0, 3600.0))->capture_default_str();
  app.add_option("--json", run.json, "Write the result as JSON to FILE");
  app.add_option("--junit", run.junit, "Write the result as JUnit XML to FILE (a test case per cell)");
  app.add_option("--metrics", run.metrics,
                 "Write the result in Prometheus text format to FILE (node_exporter textfile collector)");
  app.add_option("--colour,--color", run.colour, "auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))->capture_default_str();
  app.add_flag("-q,--quiet", run.quiet, "Only the report: no progress on stderr");
}

bool finish_run_options(RunOptions& run, const std::string& ports, double timeout_ms, double max_time_s) {
  try {
    run.extra_ports = parse_port_list(ports.empty() ? std::string() : ports);
  } catch (const std::exception& e) {
    if (!ports.empty()) {
      std::cerr << "netverify: --ports: " << e.what() << '\n';
      return false;
    }
  }
  run.prober.timeout = std::chrono::milliseconds(static_cast<long>(timeout_ms));
  run.prober.total = std::chrono::milliseconds(static_cast<long>(max_time_s * 1000));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "netverify: proves that only the policy's allowed flows pass.\n"
      "  netverify POLICY        on a Proxmox node: probe namespaces on each zone's bridge\n"
      "  netverify lab POLICY    build the node in namespaces from the policy, apply every target, prove it\n"
      "  netverify lab down      remove a lab left up with --keep\n"
      "  netverify cleanup       remove whatever a crashed run left (names starting nv-)\n"
      "Exit: 0 all proven, 1 a violation, 2 usage or tool error, 3 inconclusive cells remain."};
  app.require_subcommand(0, 1);

  NodeOptions node;
  std::string node_ports;
  double node_timeout = 800, node_max = 30;
  add_run_options(app, node.run, node_ports, node_timeout, node_max);
  app.get_option("policy")->required(false);
  std::vector<std::string> gateways;
  app.add_option("--from", node.from, "Probe from where netverify runs, as a member of ZONE (no namespaces)");
  app.add_option("--gateway", gateways, "ZONE=ADDRESS: the default gateway of ZONE's probe namespace");

  auto* lab_cmd = app.add_subcommand("lab", "Build the node in namespaces from the policy and prove it");
  lab_cmd->require_subcommand(0, 1);
  netpol::live::lab::LabOptions lab;
  std::string lab_ports;
  double lab_timeout = 800, lab_max = 30;
  add_run_options(*lab_cmd, lab.run, lab_ports, lab_timeout, lab_max);
  lab_cmd->get_option("policy")->required(false);
  lab_cmd->add_flag("--keep", lab.keep, "Leave the lab up to explore (then `netverify lab down`)");
  lab_cmd->add_flag("!--no-layers", lab.layers, "Skip proving each enforcement layer alone");
  lab_cmd->add_option("--workdir", lab.workdir, "Keep compiled files, logs and keys here (default: a temporary directory)");
  lab_cmd->add_option("--edit-compiled", lab.edit_compiled,
                      "Run PROGRAM OUTDIR on the compiled files before they are applied (to test a deliberate mistake)");
  lab_cmd->add_option("--reject", lab.reject,
                      "Make every firewall reject what it would drop: tcp-reset or icmp (verdicts must not change)")
      ->check(CLI::IsMember({"tcp-reset", "icmp"}));
  auto* down_cmd = lab_cmd->add_subcommand("down", "Remove a lab left up");
  auto* cleanup_cmd = app.add_subcommand("cleanup", "Remove namespaces, links and processes a crashed run left");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (::geteuid() != 0 && !app.got_subcommand(cleanup_cmd) && (node.run.policy.size() || lab_cmd->parsed())) {
    std::cerr << "netverify: needs root (network namespaces, links, packet capture)\n";
    return 2;
  }
  if (app.got_subcommand(cleanup_cmd)) return run_cleanup();
  if (lab_cmd->parsed()) {
    if (down_cmd->parsed()) {
      const auto removed = netpol::live::lab::lab_down();
      for (const auto& n : removed) std::cout << "removed namespace " << n << '\n';
      if (removed.empty()) std::cout << "no lab is up\n";
      return 0;
    }
    if (lab.run.policy.empty()) {
      std::cerr << "netverify lab: give the policy file (see netverify lab --help)\n";
      return 2;
    }
    if (!finish_run_options(lab.run, lab_ports, lab_timeout, lab_max)) return 2;
    return netpol::live::lab::run_lab(lab);
  }
  if (node.run.policy.empty()) {
    std::cerr << app.help();
    return 2;
  }
  for (const auto& g : gateways) {
    const auto eq = g.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "netverify: --gateway " << g << ": write ZONE=ADDRESS\n";
      return 2;
    }
    node.gateway[g.substr(0, eq)] = g.substr(eq + 1);
  }
  if (!finish_run_options(node.run, node_ports, node_timeout, node_max)) return 2;
  return run_node(node);
}
