// The compose audit's JSON and SARIF: the lint's renderings plus the ports, with compose places.
#include "compose_report.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "compose_test_support.h"

using namespace netpol;
using namespace netpol::compose;

namespace {
ComposeAudit audited(const std::string& yaml) {
  auto c = netpol::testing::compile_text(compose::testing::kPolicy);
  REQUIRE(c->ok());
  ComposeAudit a;
  a.policy = c->policy.entry;
  FileAudit f;
  f.host = "app";
  f.file = a.findings.sources.add("compose/app.yml", "compose/app.yml", yaml);
  auto file = read_compose(a.findings.sources, f.file, a.findings.diags);
  f.readable = file.readable;
  f.services = file.services;
  Matrix matrix(c->policy);
  f.ports = audit_compose(c->policy, matrix, *c->policy.find_host("app"), file, a.findings.diags);
  a.files.push_back(std::move(f));
  a.findings.checked = true;
  return a;
}
const char* kYaml = "services:\n  web:\n    ports:\n      - \"8080:8080\"\n      - \"8081:8081\"\n";
}  // namespace

TEST_CASE("compose audit JSON: the diagnostics, the files and every port with its verdict", "[compose][report]") {
  auto j = nlohmann::json::parse(compose_json(audited(kYaml)));
  CHECK(j["format"] == "netpol-compose-audit/1");
  CHECK(j["policy"] == "main.npol");
  CHECK(j["ok"] == false);
  CHECK(j["errors"] == 1);
  REQUIRE(j["diagnostics"].size() == 1);
  CHECK(j["diagnostics"][0]["code"] == "E901");
  CHECK(j["diagnostics"][0]["file"] == "compose/app.yml");
  CHECK(j["diagnostics"][0]["line"] == 5);
  CHECK(j["diagnostics"][0]["column"] == 9);
  CHECK(j["diagnostics"][0]["end_column"] == 20);
  CHECK(j["files"][0] == nlohmann::json{{"file", "compose/app.yml"}, {"host", "app"}, {"readable", true}, {"services", 1}});
  REQUIRE(j["ports"].size() == 2);
  const auto& p = j["ports"][0];
  CHECK(p["line"] == 4);
  CHECK(p["service"] == "web");
  CHECK(p["host_ip"].is_null());
  CHECK(p["host_ports"] == "8080");
  CHECK(p["container"] == "tcp/8080");
  CHECK(p["verdict"] == "allowed");
  CHECK(p["allowed_by"][0] == nlohmann::json{{"source", "lan"}, {"ports", "tcp/8080"}, {"rule", "main.npol:15"},
                                             {"rule_text", "allow lan -> app : web, udp/5000-5010"}});
  CHECK(j["ports"][1]["verdict"] == "exposed");
}

TEST_CASE("compose audit SARIF: compose rules and compose-file regions", "[compose][report]") {
  auto log = nlohmann::json::parse(compose_sarif(audited(kYaml)));
  CHECK(log["version"] == "2.1.0");
  const auto& run = log["runs"][0];
  REQUIRE(run["tool"]["driver"]["rules"].size() == 1);
  CHECK(run["tool"]["driver"]["rules"][0]["id"] == "E901");
  CHECK(run["tool"]["driver"]["rules"][0]["shortDescription"]["text"] ==
        "Published container port that no flow of the policy allows");
  const auto& r = run["results"][0];
  CHECK(r["level"] == "error");
  CHECK(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "compose/app.yml");
  CHECK(r["locations"][0]["physicalLocation"]["region"]["startLine"] == 5);
  CHECK_THAT(r["message"]["text"].get<std::string>(), Catch::Contains("\nhelp: Docker publishes ports"));
}

TEST_CASE("compose audit text: a line per port, then the findings as netpolc renders them", "[compose][report]") {
  auto a = audited(kYaml);
  auto table = compose_table(a);
  CHECK_THAT(table, Catch::Contains("app: compose/app.yml (1 service)\n"));
  CHECK_THAT(table, Catch::Contains("  line 4    web  8080:8080  tcp/8080  allowed from lan [main.npol:15]\n"));
  CHECK_THAT(table, Catch::Contains("  line 5    web  8081:8081  tcp/8081  EXPOSED: no flow allows it [E901]\n"));
  auto findings = compose_findings(a, false);
  CHECK_THAT(findings, Catch::StartsWith("compose/app.yml:5:9: error[E901]: "));
  CHECK_THAT(findings, Catch::EndsWith("1 error, 0 warnings\n"));
}
