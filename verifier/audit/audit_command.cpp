#include "audit_command.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <ostream>

#include "audit_render.h"
#include "compose_command.h"
#include "diff.h"
#include "exposure.h"

extern char** environ;

namespace netpol {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitPolicy = 1;
constexpr int kExitUsage = 2;

// Renders `dot_text` into `svg_path` with Graphviz; an error message, or empty.
std::string write_svg(const std::string& dot, const std::string& dot_text, const std::string& svg_path) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string tmp = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/netpolc-audit-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return "cannot create a temporary file for dot";
  ::close(fd);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << dot_text;
    if (!f) {
      ::unlink(tmp.c_str());
      return "cannot write " + tmp;
    }
  }
  std::vector<std::string> args{dot, "-Tsvg", "-o", svg_path, tmp};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, dot.c_str(), nullptr, nullptr, argv.data(), environ);
  int status = 0;
  if (rc == 0) ::waitpid(pid, &status, 0);
  ::unlink(tmp.c_str());
  if (rc != 0) return "cannot run " + dot;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return dot + " failed to write " + svg_path;
  return {};
}

}  // namespace

std::string find_dot() {
  const char* path = std::getenv("PATH");
  if (!path) return {};
  std::string all = path;
  std::size_t start = 0;
  while (start <= all.size()) {
    auto end = all.find(':', start);
    if (end == std::string::npos) end = all.size();
    auto dir = all.substr(start, end - start);
    if (!dir.empty()) {
      auto candidate = dir + "/dot";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return {};
}

CLI::App* add_audit_command(CLI::App& app, AuditCommand& options) {
  auto* sub = app.add_subcommand("audit", "Check a policy and show what each zone reaches, directly and through the "
                                          "reverse proxy and the VPN, with the shortest path (the internet first)");
  sub->add_option("POLICY", options.policy, "The policy file")->required();
  sub->add_option("--format", options.format, "text, json, md or dot (with --compose: text, json or sarif)")
      ->check(CLI::IsMember({"text", "json", "md", "dot", "sarif"}))
      ->capture_default_str();
  sub->add_option("--svg", options.svg, "Also draw the exposure graph into FILE (needs Graphviz `dot`)");
  sub->add_option("--compose", options.compose_files,
                  "Audit Docker compose files instead: [HOST=]FILE..., or none for those the policy declares")
      ->expected(0, CLI::detail::expected_max_vector_size);  // a bare --compose leaves one empty string
  sub->add_flag("--werror", options.werror, "With --compose: warnings fail the audit (exit 1)");
  sub->footer("Exit codes: 0 ok, 1 the policy has errors (with --compose: or error findings), 2 usage or I/O "
              "errors. JSON shape: docs/audit.md.");
  return sub;
}

int run_audit_command(const AuditCommand& options, const Compilation& c, std::ostream& out, std::ostream& err) {
  if (c.sources.size() == 0) {
    err << "netpolc: error: cannot read " << options.policy << "\n";
    return kExitUsage;
  }
  if (!c.ok()) {
    err << "netpolc: error: " << options.policy << " has errors; the audit needs a policy that checks\n";
    return kExitPolicy;
  }
  std::vector<std::string> files;
  for (const auto& f : options.compose_files)
    if (!f.empty()) files.push_back(f);
  bool compose = options.compose || !options.compose_files.empty();
  if (compose && (options.format == "md" || options.format == "dot")) {
    err << "netpolc: error: --compose prints text, json or sarif\n";
    return kExitUsage;
  }
  if (!compose && options.format == "sarif") {
    err << "netpolc: error: --format sarif needs --compose\n";
    return kExitUsage;
  }
  if (compose) return compose::run_compose_audit({options.policy, files, options.format, options.werror}, c, out, err);
  const auto& p = c.policy;
  audit::Exposure e(p);
  if (options.format == "json") {
    out << audit::audit_json(p, e).dump(2) << "\n";
  } else if (options.format == "md") {
    out << audit::audit_markdown(p, e);
  } else if (options.format == "dot") {
    out << audit::audit_dot(p, e);
  } else {
    out << audit::audit_text(p, e);
  }
  if (!options.svg.empty()) {
    auto dot = find_dot();
    if (dot.empty()) {
      err << "netpolc: note: --svg skipped: Graphviz `dot` is not on PATH (apt-get install graphviz)\n";
    } else if (auto error = write_svg(dot, audit::audit_dot(p, e), options.svg); !error.empty()) {
      err << "netpolc: error: " << error << "\n";
      return kExitUsage;
    }
  }
  return kExitOk;
}

CLI::App* add_diff_command(CLI::App& app, DiffCommand& options) {
  auto* sub = app.add_subcommand("diff", "Compare two policies: flows added and removed, exposure gained and lost");
  sub->add_option("OLD", options.old_policy, "The policy before (e.g. the base branch's)")->required();
  sub->add_option("NEW", options.new_policy, "The policy after")->required();
  sub->add_option("--format", options.format, "md (a pull-request comment) or json")
      ->check(CLI::IsMember({"md", "json"}))
      ->capture_default_str();
  sub->add_flag("--fail-on-new-exposure", options.fail_on_new_exposure,
                "Exit 1 when any zone or host can reach something it could not before");
  sub->footer("Exit codes: 0 ok, 1 new exposure with --fail-on-new-exposure (or a policy that does not resolve), "
              "2 usage or I/O errors. JSON shape: docs/audit.md.");
  return sub;
}

int run_diff_command(const DiffCommand& options, const Compilation& old_c, const Compilation& new_c, std::ostream& out,
                     std::ostream& err) {
  for (const auto* c : {&old_c, &new_c}) {
    const auto& name = c == &old_c ? options.old_policy : options.new_policy;
    if (c->sources.size() == 0) {
      err << "netpolc: error: cannot read " << name << "\n";
      return kExitUsage;
    }
    if (!c->checked) {
      err << "netpolc: error: " << name << " has errors; nothing to compare\n";
      return kExitPolicy;
    }
  }
  auto d = audit::diff_policies(old_c.policy, new_c.policy);
  if (options.format == "json") {
    out << audit::diff_json(d, old_c.policy, options.old_policy, new_c.policy, options.new_policy).dump(2) << "\n";
  } else {
    out << audit::diff_markdown(d, options.old_policy, options.new_policy);
  }
  return options.fail_on_new_exposure && !d.gained.empty() ? kExitPolicy : kExitOk;
}

}  // namespace netpol
