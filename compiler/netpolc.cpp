// netpolc: check a policy, compile it into every target, show its matrix.
// Exit codes: 0 ok, 1 the policy has errors, 2 usage or I/O errors.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "audit_command.h"
#include "explain_command.h"
#include "lint.h"
#include "report_formats.h"
#include "matrix_text.h"
#include "npm/npm_apply.h"
#include "proxmox/proxmox_drift.h"
#include "ufw/ufw_drift.h"
#include "output_dir.h"
#include "pipeline.h"
#include "version.h"

namespace {

using namespace netpol;

constexpr int kExitOk = 0;
constexpr int kExitPolicy = 1;
constexpr int kExitUsage = 2;

bool use_color(const std::string& mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  return ::isatty(STDERR_FILENO) && !(no_color && *no_color);
}

// Prints the diagnostics from index `first` on; returns the exit code the checks deserve.
int report(const Compilation& c, bool color, std::size_t first = 0) {
  for (const auto& d : c.diags.sorted(first)) std::cerr << render(d, c.sources, color);
  int errors = c.diags.error_count();
  int warnings = c.diags.warning_count();
  if (errors > 0) {
    std::cerr << errors << (errors == 1 ? " error" : " errors");
    if (warnings) std::cerr << ", " << warnings << (warnings == 1 ? " warning" : " warnings");
    std::cerr << "\n";
  }
  return errors > 0 ? kExitPolicy : kExitOk;
}

// An unreadable entry file is an I/O error (exit 2), not a policy error.
bool entry_unreadable(const Compilation& c) { return c.sources.size() == 0; }

std::string count(std::size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string summary(const std::string& path, const ir::Policy& p) {
  return path + ": ok: " + count(p.zones.size(), "zone", "zones") + ", " + count(p.hosts.size(), "host", "hosts") +
         ", " + count(p.services.size(), "service", "services") + ", " +
         count(p.invariants.size(), "invariant holds", "invariants hold") + ", " +
         count(p.flows.size(), "allowed flow", "allowed flows") + "\n";
}

// check: the compiler's checks, then the lint (shadowed, redundant, unused...), in one format.
int run_check(Compilation& c, const std::string& path, const std::string& format, bool werror, bool color) {
  if (c.checked) lint_policy(c.policy, c.diags);  // also when the only errors are broken invariants
  if (format == "json") {
    std::cout << diagnostics_json(c);
  } else if (format == "sarif") {
    std::cout << diagnostics_sarif(c);
  } else {
    report(c, color);
    if (c.ok()) std::cout << summary(path, c.policy);
  }
  if (entry_unreadable(c)) return kExitUsage;
  bool failed = c.diags.has_errors() || (werror && c.diags.warning_count() > 0);
  return failed ? kExitPolicy : kExitOk;
}

// Each target's deployed rules against what the policy implies.
int report_drift(const ir::Policy& policy, const std::string& proxmox_dir, const std::string& ufw_dir) {
  if (proxmox_dir.empty() && ufw_dir.empty()) {
    std::cerr << "netpolc: error: drift needs --proxmox DIR, --ufw DIR or both\n";
    return kExitUsage;
  }
  std::vector<std::string> errors;
  std::vector<EnforcedRule> expected, deployed;
  auto add = [](std::vector<EnforcedRule>& to, std::vector<EnforcedRule> from) {
    to.insert(to.end(), from.begin(), from.end());
  };
  if (!proxmox_dir.empty()) {
    add(expected, proxmox_expected(policy));
    add(deployed, proxmox_deployed(proxmox_dir, errors));
  }
  if (!ufw_dir.empty()) {
    add(expected, ufw_expected(policy));
    add(deployed, ufw_deployed(ufw_dir, errors));
  }
  for (const auto& e : errors) std::cerr << "netpolc: error: " << e << "\n";
  auto d = compare(expected, deployed);
  std::cout << drift_text(d);
  if (!errors.empty()) return kExitUsage;
  std::cout << (d.empty() ? "no drift: the deployed rules allow exactly what the policy allows\n"
                          : std::to_string(d.missing.size()) + " missing, " + std::to_string(d.extra.size()) +
                                " extra, " + std::to_string(d.changed.size()) + " changed\n");
  return d.empty() ? kExitOk : kExitPolicy;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"netpolc: the netpol policy compiler.\n"
               "Checks a network policy, proves its invariants, and compiles it into every target."};
  app.set_version_flag("--version", std::string("netpolc ") + kToolVersion);
  app.require_subcommand(1);
  std::string color = "auto";
  app.add_option("--color", color, "Colour diagnostics: auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();

  std::string policy_path;
  auto* check = app.add_subcommand("check", "Parse, resolve and prove a policy; print every error");
  check->add_option("POLICY", policy_path, "The policy file (e.g. policy/homelab.npol)")->required();
  std::string check_format = "text";
  bool werror = false;
  check->add_option("--format", check_format, "text (to stderr), json or sarif (SARIF 2.1.0, to stdout)")
      ->check(CLI::IsMember({"text", "json", "sarif"}))
      ->capture_default_str();
  check->add_flag("--werror", werror, "Warnings fail the check (exit 1)");
  check->footer("Exit codes: 0 ok, 1 errors (or warnings with --werror), 2 usage or I/O errors.");

  std::string out_dir;
  auto* compile = app.add_subcommand("compile", "Check a policy, then write every target into DIR atomically");
  compile->add_option("POLICY", policy_path, "The policy file")->required();
  compile->add_option("-o,--output", out_dir, "The output directory (replaced as a whole)")->required();
  TargetOptions target_options;
  compile->add_option("--openvpn-ca", target_options.openvpn_ca, "The VPN host's CA certificate path")
      ->capture_default_str();
  compile->add_option("--openvpn-cert", target_options.openvpn_cert, "The VPN server's certificate path")
      ->capture_default_str();
  compile->add_option("--openvpn-key", target_options.openvpn_key, "The VPN server's private key path")
      ->capture_default_str();
  compile->add_option("--openvpn-tls-crypt", target_options.openvpn_tls_crypt, "The VPN's tls-crypt key path")
      ->capture_default_str();

  auto* matrix = app.add_subcommand("matrix", "Check a policy and print its resolved flow matrix");
  matrix->add_option("POLICY", policy_path, "The policy file")->required();

  std::string proxmox_dir, ufw_dir;
  auto* drift = app.add_subcommand("drift", "Compare deployed firewall files with what the policy compiles to, as flows");
  drift->add_option("POLICY", policy_path, "The policy file")->required();
  drift->add_option("--proxmox", proxmox_dir, "A copy of the deployed cluster.fw, host.fw and <vmid>.fw files")
      ->check(CLI::ExistingDirectory);
  drift->add_option("--ufw", ufw_dir, "A copy of each VM's user.rules and user6.rules, as <host>.rules and <host>.rules6")
      ->check(CLI::ExistingDirectory);
  drift->footer("Exit codes: 0 no drift, 1 drift (or policy errors), 2 usage or unreadable files.");

  AuditCommand audit_options;
  auto* audit = add_audit_command(app, audit_options);
  DiffCommand diff_options;
  auto* diff = add_diff_command(app, diff_options);
  ExplainCommand explain_options;
  auto* explain = add_explain_command(app, explain_options);

  NpmApplyOptions npm_options;
  auto* npm = app.add_subcommand("npm", "Nginx Proxy Manager: apply the compiled proxy hosts to a live NPM");
  npm->require_subcommand(1);
  auto* npm_apply_cmd = npm->add_subcommand("apply", "Create, update or delete only what netpol manages; a second run changes nothing");
  npm_apply_cmd->add_option("--url", npm_options.url, "NPM's address, e.g. http://198.18.10.10:81")->required();
  npm_apply_cmd->add_option("--user", npm_options.user, "The NPM user's e-mail")->required();
  npm_apply_cmd->add_option("--password-file", npm_options.password_file, "A file holding the password")
      ->required()
      ->check(CLI::ExistingFile);
  npm_apply_cmd->add_flag("--dry-run", npm_options.dry_run, "Print the plan; change nothing");
  npm_apply_cmd->add_option("DIR", npm_options.dir, "The compiled out/npm folder")->required()->check(CLI::ExistingDirectory);

  app.footer("Exit codes: 0 ok, 1 the policy has errors, 2 usage or I/O errors.");
  for (auto* sub : {check, compile, matrix, drift, audit, diff, explain}) sub->fallthrough();  // --color after the subcommand too
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  if (*npm) return npm_apply(npm_options, std::cout, std::cerr);

  bool colored = use_color(color);
  DiskFileReader reader;
  if (*diff) {
    // Both sides are compared even when one breaks an invariant: that is what a review must see.
    auto old_c = check_policy(diff_options.old_policy, reader);
    auto new_c = check_policy(diff_options.new_policy, reader);
    report(*old_c, colored);
    report(*new_c, colored);
    return run_diff_command(diff_options, *old_c, *new_c, std::cout, std::cerr);
  }
  if (*audit) policy_path = audit_options.policy;
  if (*explain) policy_path = explain_options.policy;
  auto c = check_policy(policy_path, reader);
  if (*check) return run_check(*c, policy_path, check_format, werror, colored);
  int status = report(*c, colored);
  if (entry_unreadable(*c)) return kExitUsage;
  if (*explain) return run_explain_command(explain_options, *c, std::cout, std::cerr);  // 1 means denied, 3 policy errors
  if (status != kExitOk) return status;

  if (*matrix) {
    std::cout << matrix_text(c->policy);
  } else if (*audit) {
    return run_audit_command(audit_options, *c, std::cout, std::cerr);
  } else if (*drift) {
    return report_drift(c->policy, proxmox_dir, ufw_dir);
  } else if (*compile) {
    std::size_t reported = c->diags.all().size();
    auto files = build_outputs(*c, target_options);
    if (int s = report(*c, colored, reported); s != kExitOk) return s;
    if (auto error = write_output_dir(out_dir, files); !error.empty()) {
      std::cerr << "netpolc: error: " << error << "\n";
      return kExitUsage;
    }
    std::cout << "wrote " << files.size() << " files to " << out_dir << "\n";
  }
  return kExitOk;
}
