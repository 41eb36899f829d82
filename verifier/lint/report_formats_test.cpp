#include "report_formats.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "lint.h"
#include "test_support.h"

using namespace netpol;
using nlohmann::json;

namespace {

// A policy with one lint error (E801), one warning (W805) and a non-ASCII comment before a span.
const char* kPolicy =
    "zone lan\n"                          // 1
    "zone dmz\n"                          // 2
    "zone spare\n"                        // 3
    "address lan 198.18.1.0/24\n"         // 4
    "address dmz 198.18.2.0/24\n"         // 5
    "address spare 198.18.3.0/24\n"       // 6
    "host db in dmz\n"                    // 7
    "address db 198.18.2.11\n"            // 8
    "allow lan -> dmz : tcp/1-1000\n"     // 9
    "deny lan -> db : tcp/22\n";          // 10

std::unique_ptr<Compilation> linted(std::map<std::string, std::string> files, const std::string& entry = "main.npol") {
  auto c = testing::compile(std::move(files), entry);
  INFO(testing::rendered(*c));
  REQUIRE(c->ok());
  lint_policy(c->policy, c->diags);
  return c;
}

}  // namespace

TEST_CASE("JSON: every diagnostic with code, severity, place, notes and hints", "[lint][json]") {
  auto c = linted({{"policy/main.npol", kPolicy}}, "policy/main.npol");
  auto j = json::parse(diagnostics_json(*c));
  CHECK(j["tool"] == "netpolc");
  CHECK(j["ok"] == false);
  CHECK(j["errors"] == 1);
  CHECK(j["warnings"] == 1);
  REQUIRE(j["diagnostics"].size() == 2);
  const auto& w = j["diagnostics"][0];
  CHECK(w["code"] == "W805");
  CHECK(w["severity"] == "warning");
  CHECK(w["file"] == "policy/main.npol");
  CHECK(w["line"] == 3);
  CHECK(w["column"] == 1);
  CHECK(w["end_line"] == 3);
  CHECK(w["end_column"] == 11);  // "zone spare" is 10 bytes
  const auto& e = j["diagnostics"][1];
  CHECK(e["code"] == "E801");
  CHECK(e["severity"] == "error");
  CHECK(e["line"] == 10);
  REQUIRE(e["notes"].size() == 1);
  CHECK(e["notes"][0]["line"] == 9);
  CHECK(e["notes"][0]["file"] == "policy/main.npol");
  REQUIRE(e["hints"].size() == 1);
  CHECK(e["hints"][0].get<std::string>().starts_with("move the deny"));

  SECTION("a diagnostic with no place has no file key") {
    auto missing = testing::compile({}, "nowhere.npol");
    auto m = json::parse(diagnostics_json(*missing));
    REQUIRE(m["diagnostics"].size() == 1);
    CHECK(m["diagnostics"][0]["code"] == "E501");
    CHECK_FALSE(m["diagnostics"][0].contains("file"));
  }
}

TEST_CASE("SARIF: the 2.1.0 structure code scanning reads", "[lint][sarif]") {
  auto c = linted({{"policy/main.npol", kPolicy}}, "policy/main.npol");
  auto log = json::parse(diagnostics_sarif(*c));
  CHECK(log["version"] == "2.1.0");
  CHECK(log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json");
  REQUIRE(log["runs"].size() == 1);
  const auto& run = log["runs"][0];
  CHECK(run["tool"]["driver"]["name"] == "netpolc");
  const auto& rules = run["tool"]["driver"]["rules"];
  REQUIRE(rules.size() == 2);  // every code used, once
  CHECK(rules[0]["id"] == "E801");
  CHECK(rules[0]["defaultConfiguration"]["level"] == "error");
  CHECK(rules[1]["id"] == "W805");
  CHECK(rules[1]["shortDescription"]["text"] == "Zone defined and never used");
  const auto& results = run["results"];
  REQUIRE(results.size() == 2);
  const auto& e = results[1];
  CHECK(e["ruleId"] == "E801");
  CHECK(e["ruleIndex"] == 0);
  CHECK(e["level"] == "error");
  CHECK_THAT(e["message"]["text"].get<std::string>(), Catch::Contains("tcp/22 from lan to db") && Catch::Contains("\nhelp: "));
  const auto& loc = e["locations"][0]["physicalLocation"];
  CHECK(loc["artifactLocation"]["uri"] == "policy/main.npol");
  CHECK(loc["region"]["startLine"] == 10);
  CHECK(loc["region"]["startColumn"] == 1);
  CHECK(loc["region"]["endColumn"] == 24);  // "deny lan -> db : tcp/22" is 23 characters
  CHECK(e["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 9);
  CHECK(results[0]["ruleId"] == "W805");
  CHECK(results[0]["level"] == "warning");
  CHECK(results[0]["ruleIndex"] == 1);
}

TEST_CASE("SARIF: included files by their path, unsafe characters encoded, absolute paths as file URIs", "[lint][sarif]") {
  auto c = linted({{"p/main.npol", "include \"my flows.npol\"\n"},
                   {"p/my flows.npol", "zone lan\naddress lan 198.18.1.0/24\nzone xz\naddress xz 198.18.2.0/24\n"
                                       "allow lan -> lan : tcp/1\n"}},
                  "p/main.npol");
  auto log = json::parse(diagnostics_sarif(*c));
  const auto& results = log["runs"][0]["results"];
  REQUIRE(results.size() == 1);
  CHECK(results[0]["ruleId"] == "W805");
  const auto& loc = results[0]["locations"][0]["physicalLocation"];
  CHECK(loc["artifactLocation"]["uri"] == "p/my%20flows.npol");
  CHECK(loc["region"]["startLine"] == 3);

  auto abs = linted({{"/srv/policy/main.npol", "zone lan\naddress lan 198.18.1.0/24\nzone xz\naddress xz 198.18.2.0/24\n"
                                               "allow lan -> lan : tcp/1\n"}},
                    "/srv/policy/main.npol");
  auto log2 = json::parse(diagnostics_sarif(*abs));
  CHECK(log2["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
        "file:///srv/policy/main.npol");
}

TEST_CASE("SARIF: columns count UTF-16 code units, as SARIF's default columnKind", "[lint][sarif]") {
  // A syntax error over '"é😀"': 8 bytes ('é' is 2, the emoji 4), 5 UTF-16 units (the emoji is a pair).
  auto c = testing::compile_text("zone lan # \xc3\xa9\n\"\xc3\xa9\xf0\x9f\x98\x80\" zone\n");
  REQUIRE(c->diags.has_errors());
  auto j = json::parse(diagnostics_json(*c));
  auto log = json::parse(diagnostics_sarif(*c));
  const auto& d = j["diagnostics"][0];
  const auto& region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
  INFO(j.dump(2));
  CHECK(d["line"] == 2);
  CHECK(d["column"] == 1);
  CHECK(d["end_column"] == 9);  // bytes, as the text output
  CHECK(region["startLine"] == 2);
  CHECK(region["startColumn"] == 1);
  CHECK(region["endColumn"] == 6);  // UTF-16 units, cut at the line's end
}
