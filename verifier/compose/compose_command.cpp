#include "compose_command.h"

#include <algorithm>
#include <filesystem>
#include <ostream>

#include "compose_report.h"
#include "file_reader.h"

namespace netpol::compose {

namespace {

namespace fs = std::filesystem;

constexpr int kExitOk = 0;
constexpr int kExitFindings = 1;
constexpr int kExitUsage = 2;

// One spelling per file, so "./a.yml" and "policy/../a.yml" are one file.
std::string same_file_key(const std::string& path) {
  std::error_code ec;
  auto canonical = fs::weakly_canonical(fs::path(path), ec);
  return ec ? fs::path(path).lexically_normal().string() : canonical.string();
}

// Each declared compose file as a path from here: the policy's folder joined with the declaration.
std::vector<ComposeTarget> declared(const ComposeCommand& options, const ir::Policy& policy) {
  std::vector<ComposeTarget> out;
  auto folder = fs::path(options.policy).parent_path();
  for (std::size_t h = 0; h < policy.hosts.size(); ++h)
    for (const auto& f : policy.hosts[h].compose_files)
      out.push_back({static_cast<int>(h), (folder / f.path).lexically_normal().string()});
  return out;
}

std::string docker_hosts(const ir::Policy& policy, int& count, int& last) {
  std::string names;
  count = 0;
  for (std::size_t h = 0; h < policy.hosts.size(); ++h) {
    if (!policy.hosts[h].docker) continue;
    ++count;
    last = static_cast<int>(h);
    names += (names.empty() ? "" : ", ") + policy.hosts[h].name;
  }
  return names;
}

}  // namespace

std::vector<ComposeTarget> compose_targets(const ComposeCommand& options, const ir::Policy& policy, std::string& error) {
  auto known = declared(options, policy);
  if (options.files.empty()) {
    if (known.empty()) error = "the policy declares no compose file (host NAME in ZONE { docker \"FILE\" }): name them, as --compose HOST=FILE";
    return known;
  }
  std::vector<ComposeTarget> out;
  for (const auto& arg : options.files) {
    auto eq = arg.find('=');
    if (eq != std::string::npos && !fs::exists(arg)) {
      auto name = arg.substr(0, eq);
      auto host = policy.find_host(name);
      if (!host) {
        std::vector<std::string> names;
        for (const auto& h : policy.hosts) names.push_back(h.name);
        auto guess = closest_name(name, names);
        error = "--compose " + arg + ": the policy has no host '" + name + "'" +
                (guess.empty() ? std::string() : " (did you mean '" + guess + "'?)");
        return {};
      }
      out.push_back({*host, arg.substr(eq + 1)});
      continue;
    }
    auto key = same_file_key(arg);
    auto match = std::find_if(known.begin(), known.end(), [&](const auto& k) { return same_file_key(k.path) == key; });
    if (match != known.end()) {
      out.push_back({match->host, arg});
      continue;
    }
    int count = 0, only = -1;
    auto names = docker_hosts(policy, count, only);
    if (count != 1) {
      error = "--compose " + arg + ": no host of the policy declares this file, and " +
              (count == 0 ? std::string("none declares docker") : "several declare docker (" + names + ")") +
              ": write --compose HOST=" + arg;
      return {};
    }
    out.push_back({only, arg});
  }
  return out;
}

int run_compose_audit(const ComposeCommand& options, const Compilation& policy, std::ostream& out, std::ostream& err) {
  std::string error;
  auto targets = compose_targets(options, policy.policy, error);
  if (!error.empty()) {
    err << "netpolc: error: " << error << "\n";
    return kExitUsage;
  }
  ComposeAudit audit;
  audit.policy = policy.policy.entry;
  Matrix matrix(policy.policy);
  DiskFileReader reader;
  bool unreadable = false;
  for (const auto& t : targets) {
    std::string why;
    auto text = reader.read(t.path, why);
    if (!text) {
      err << "netpolc: error: cannot read the compose file " << t.path << ": " << why << "\n";
      return kExitUsage;
    }
    FileAudit f;
    f.host = policy.policy.hosts[static_cast<std::size_t>(t.host)].name;
    f.file = audit.findings.sources.add(t.path, t.path, std::move(*text));
    auto compose = read_compose(audit.findings.sources, f.file, audit.findings.diags);
    f.readable = compose.readable;
    f.services = compose.services;
    unreadable = unreadable || !compose.readable;
    f.ports = audit_compose(policy.policy, matrix, t.host, compose, audit.findings.diags);
    audit.files.push_back(std::move(f));
  }
  audit.findings.checked = true;
  if (options.format == "json") {
    out << compose_json(audit);
  } else if (options.format == "sarif") {
    out << compose_sarif(audit);
  } else {
    out << compose_table(audit);
    err << compose_findings(audit, options.color);
  }
  const auto& diags = audit.findings.diags;
  if (unreadable) return kExitUsage;
  if (diags.has_errors() || (options.werror && !diags.all().empty())) return kExitFindings;
  return kExitOk;
}

}  // namespace netpol::compose
