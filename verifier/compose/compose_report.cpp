#include "compose_report.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <set>

#include "compose_codes.h"
#include "report_formats.h"

namespace netpol::compose {

namespace {

using nlohmann::json;

std::string verdict_words(const PortReport& p) {
  switch (p.verdict) {
    case Verdict::allowed: {
      std::string out = "allowed from ";
      std::set<std::string> seen;
      for (const auto& g : p.grants) {
        auto item = g.source + " [" + g.where + "]";
        if (seen.insert(item).second) out += (seen.size() > 1 ? ", " : "") + item;
      }
      return out;
    }
    case Verdict::local: return "local only (" + p.host_ip + ")";
    case Verdict::exposed: return "EXPOSED: no flow allows it [E901]";
    case Verdict::kept_local: return "EXPOSED: the policy keeps it local [E902]";
    case Verdict::not_published: return "not published (other containers only)";
    case Verdict::host_network: return "host network: cannot be audited [W904]";
  }
  return {};
}

std::string service_column(const PortReport& p) {
  std::string out = p.service;
  if (!p.profiles.empty()) {
    out += " [";
    for (std::size_t i = 0; i < p.profiles.size(); ++i) out += (i ? "," : "") + p.profiles[i];
    out += "]";
  }
  return out;
}

std::string entry_column(const PortReport& p) { return p.entry.empty() ? "network_mode: host" : p.entry; }

std::string summary(const std::string& code) {
  for (const auto& info : code::kAll)
    if (info.code == code) return std::string(info.summary);
  return {};
}

}  // namespace

std::string compose_table(const ComposeAudit& audit) {
  std::string out = "Docker ports of " + audit.policy + ", held against its policy:\n";
  for (const auto& f : audit.files) {
    const auto& path = audit.findings.sources.file(f.file).display_path;
    out += "\n" + f.host + ": " + path;
    if (!f.readable) {
      out += " (not read)\n";
      continue;
    }
    out += fmt::format(" ({} service{})\n", f.services, f.services == 1 ? "" : "s");
    if (f.ports.empty()) out += "  no ports published or exposed\n";
    std::size_t service_width = 0, entry_width = 0;
    for (const auto& p : f.ports) {
      service_width = std::max(service_width, service_column(p).size());
      entry_width = std::max(entry_width, entry_column(p).size());
    }
    for (const auto& p : f.ports) {
      auto line = audit.findings.sources.file(f.file).position(p.span.begin).line;
      out += fmt::format("  line {:<4} {:<{}}  {:<{}}  {:<9} {}\n", line, service_column(p), service_width,
                         entry_column(p), entry_width, p.checked, verdict_words(p));
    }
  }
  return out;
}

std::string compose_findings(const ComposeAudit& audit, bool color) {
  std::string out;
  const auto& diags = audit.findings.diags;
  for (const auto& d : diags.sorted()) out += render(d, audit.findings.sources, color);
  int errors = diags.error_count();
  int warnings = diags.warning_count();
  if (errors + warnings > 0)
    out += fmt::format("{} error{}, {} warning{}\n", errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
  return out;
}

std::string compose_json(const ComposeAudit& audit) {
  auto j = json::parse(diagnostics_json(audit.findings));
  json files = json::array();
  json ports = json::array();
  for (const auto& f : audit.files) {
    const auto& source = audit.findings.sources.file(f.file);
    files.push_back({{"file", source.display_path}, {"host", f.host}, {"readable", f.readable}, {"services", f.services}});
    for (const auto& p : f.ports) {
      auto at = source.position(p.span.begin);
      json grants = json::array();
      for (const auto& g : p.grants)
        grants.push_back({{"source", g.source}, {"ports", g.ports}, {"rule", g.where}, {"rule_text", g.rule_text}});
      ports.push_back({{"file", source.display_path},
                       {"line", at.line},
                       {"column", at.column},
                       {"host", f.host},
                       {"service", p.service},
                       {"profiles", p.profiles},
                       {"entry", p.entry},
                       {"host_ip", p.host_ip.empty() ? json(nullptr) : json(p.host_ip)},
                       {"host_ports", p.host_ports.empty() ? json(nullptr) : json(p.host_ports)},
                       {"container", p.checked.empty() ? json(nullptr) : json(p.checked)},
                       {"verdict", to_string(p.verdict)},
                       {"allowed_by", std::move(grants)}});
    }
  }
  json out{{"format", "netpol-compose-audit/1"}, {"policy", audit.policy}};
  for (auto& [key, value] : j.items()) out[key] = value;
  out["files"] = std::move(files);
  out["ports"] = std::move(ports);
  return out.dump(2) + "\n";
}

std::string compose_sarif(const ComposeAudit& audit) {
  auto log = json::parse(diagnostics_sarif(audit.findings));
  for (auto& run : log["runs"])
    for (auto& rule : run["tool"]["driver"]["rules"])
      if (auto text = summary(rule["id"].get<std::string>()); !text.empty()) rule["shortDescription"]["text"] = text;
  return log.dump(2) + "\n";
}

}  // namespace netpol::compose
