#include "report.h"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <sstream>

using namespace netpol::live;
using nlohmann::json;

namespace {

Cell make(std::string source, std::string destination, std::uint16_t port, bool allowed, Verdict observed,
          L4 proto = L4::tcp, std::string layer = "all", std::string via = "") {
  Cell c;
  c.source = std::move(source);
  c.source_address = "198.18.0.10";
  c.destination = std::move(destination);
  c.destination_address = "198.18.1.5";
  c.proto = proto;
  c.port = port;
  c.layer = std::move(layer);
  c.via = std::move(via);
  c.expected_allowed = allowed;
  c.rule = allowed ? "flows.npol:47 allow lan -> intranet : https" : "default deny";
  c.observed = observed;
  c.evidence = "token seen at " + c.destination;
  return c;
}

// Two layers, three sources, a proxied flow, every kind of outcome: 2 violations, 2 inconclusive.
std::vector<Cell> sample() {
  return {
      make("lan", "vm-intranet", 443, true, Verdict::delivered),
      make("lan", "vm-intranet", 5432, false, Verdict::delivered),  // violation: a hole
      make("lan", "vm-intranet", 22, false, Verdict::blocked),
      make("lan", "vm-intranet", 80, true, Verdict::nothing_listening),
      make("lan", "edge", 1194, true, Verdict::inconclusive, L4::udp),
      make("lan", "edge", 443, true, Verdict::delivered),
      make("lan", "jellyfin", 443, true, Verdict::delivered, L4::tcp, "all", "proxy jellyfin.home.arpa"),
      make("internet", "vm-intranet", 443, false, Verdict::blocked),
      make("internet", "edge", 1194, true, Verdict::blocked, L4::udp),  // violation: an outage
      make("vpn", "vm-intranet", 443, true, Verdict::inconclusive, L4::tcp, "all", "vpn tunnel"),
      make("lan", "vm-intranet", 5432, false, Verdict::blocked, L4::tcp, "node firewall alone"),
      make("lan", "vm-intranet", 443, true, Verdict::delivered, L4::tcp, "node firewall alone"),
  };
}

RunFacts facts() {
  RunFacts f;
  f.policy = "policy/homelab.npol";
  f.policy_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  f.mode = "lab";
  f.probes = 840;
  f.seconds = 1.05;
  f.started_utc = "2024-05-01T12:00:00Z";
  return f;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// A name with everything a format can choke on: quotes, markup, a backslash, line ends, a tab,
// and non-ASCII text. All of it is valid UTF-8, so every format must carry it back unchanged.
const std::string hostile = "ev\"il <b>&amp;</b> 'x' \\ back\nslash\ttab \xC3\xBCn\xC3\xAF" "c\xC3\xB8" "d\xC3\xA9 \xF0\x9F\x94\xA5";

struct Run {
  int status = -1;
  std::string out;
};

Run run(const std::string& command) {
  Run r;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) r.out.append(buffer, n);
  r.status = ::pclose(pipe);
  return r;
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/netverify-report-test-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { std::remove(path.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
};

bool executable(const char* path) { return ::access(path, X_OK) == 0; }

// The XML as a real parser reads it: every testcase's classname and name, and whether it holds a
// <failure> or a <skipped>, as JSON. Needs Debian's python3 (see docs/build notes).
json parse_junit_with_python(const std::string& path) {
  const std::string script =
      "import json, sys, xml.dom.minidom as m\n"
      "d = m.parse(sys.argv[1])\n"
      "cases = [{'classname': c.getAttribute('classname'), 'name': c.getAttribute('name'),\n"
      "          'failure': len(c.getElementsByTagName('failure')), 'skipped': len(c.getElementsByTagName('skipped'))}\n"
      "         for c in d.getElementsByTagName('testcase')]\n"
      "suites = [{k: s.getAttribute(k) for k in ('name', 'tests', 'failures', 'skipped')}\n"
      "          for s in d.getElementsByTagName('testsuite')]\n"
      "print(json.dumps({'cases': cases, 'suites': suites}))\n";
  TempFile code(script);
  const Run r = run("/usr/bin/python3 " + code.path + " " + path + " 2>&1");
  INFO(r.out);
  REQUIRE(r.status == 0);
  return json::parse(r.out);
}

// Label values of one sample line of the exposition format, unescaped.
std::map<std::string, std::string> labels_of(const std::string& line) {
  std::map<std::string, std::string> labels;
  const auto open = line.find('{');
  if (open == std::string::npos) return labels;
  std::size_t i = open + 1;
  while (i < line.size() && line[i] != '}') {
    const auto eq = line.find("=\"", i);
    const std::string name = line.substr(i, eq - i);
    std::string value;
    for (i = eq + 2; line[i] != '"'; ++i) {
      if (line[i] == '\\') {
        ++i;
        value += line[i] == 'n' ? '\n' : line[i];
      } else {
        value += line[i];
      }
    }
    labels[name] = value;
    ++i;
    if (line[i] == ',') ++i;
  }
  return labels;
}

std::set<std::string> metric_names(const std::string& metrics) {
  std::set<std::string> names;
  static const std::regex type_line(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) \w+$)");
  for (const auto& line : lines_of(metrics)) {
    std::smatch m;
    if (std::regex_match(line, m, type_line)) names.insert(m[1]);
  }
  return names;
}

}  // namespace

TEST_CASE("text: summary, then violations, then inconclusive cells, then the matrix", "[report][text]") {
  const std::string text = render_text(sample(), facts(), false);
  INFO(text);
  const auto lines = lines_of(text);
  REQUIRE(lines.size() > 2);
  CHECK(lines[0] == "netverify (lab): policy policy/homelab.npol, sha256 0123456789ab, started 2024-05-01T12:00:00Z");
  CHECK(lines[1] == "12 cells: 8 proven, 2 violations, 2 inconclusive; 840 probes in 1.05 s (800/s)");
  const auto violations = text.find("VIOLATIONS (2)");
  const auto inconclusive = text.find("INCONCLUSIVE (2)");
  const auto matrix = text.find("MATRIX");
  REQUIRE(violations != std::string::npos);
  REQUIRE(inconclusive != std::string::npos);
  REQUIRE(matrix != std::string::npos);
  CHECK(violations < inconclusive);
  CHECK(inconclusive < matrix);

  // Each violation is one line naming the flow, the expectation, the observation and why.
  const auto hole = std::find_if(lines.begin(), lines.end(),
                                 [](const std::string& l) { return l.find("lan -> vm-intranet:5432/tcp") != std::string::npos; });
  REQUIRE(hole != lines.end());
  CHECK(static_cast<std::size_t>(hole - lines.begin()) < static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<long>(matrix), '\n')));
  CHECK(hole->find("expected forbidden, observed delivered") != std::string::npos);
  CHECK(hole->find("evidence: token seen at vm-intranet") != std::string::npos);
  CHECK(hole->find("rule: default deny") != std::string::npos);
  CHECK(hole->find("layer: all") != std::string::npos);
  CHECK(hole->find("via: direct") != std::string::npos);
  CHECK(text.find("internet -> edge:1194/udp: expected allowed, observed blocked") < matrix);
  // The proven cells are not in the violation list.
  CHECK(text.find("lan -> vm-intranet:443/tcp") == std::string::npos);
}

TEST_CASE("text: the matrix has one row per destination and one column per port, with symbols", "[report][text]") {
  const auto lines = lines_of(render_text(sample(), facts(), false));
  // The table of layer "all", source lan: find its header, then read the symbol under a port.
  const auto table = std::find(lines.begin(), lines.end(), "layer all, from lan (198.18.0.10)");
  REQUIRE(table != lines.end());
  const std::string& header = *(table + 1);
  const auto symbol_at = [&](const std::string& row, const std::string& port) -> std::string {
    const auto column = header.find(port);
    REQUIRE(column != std::string::npos);
    for (auto it = table + 2; it != lines.end() && !it->empty(); ++it)
      if (it->rfind("  " + row + " ", 0) == 0) return it->substr(column, 2);
    FAIL("no row " << row);
    return {};
  };
  CHECK(header.find("22/tcp") < header.find("80/tcp"));  // ports sorted by number, not as text
  CHECK(header.find("443/tcp") < header.find("1194/udp"));
  CHECK(symbol_at("vm-intranet", "5432/tcp") == "!!");
  CHECK(symbol_at("vm-intranet", "22/tcp") == "--");
  CHECK(symbol_at("vm-intranet", "443/tcp") == "ok");
  CHECK(symbol_at("vm-intranet", "80/tcp") == "nl");
  CHECK(symbol_at("edge", "1194/udp") == "??");
  CHECK(symbol_at("edge", "22/tcp") == ". ");
  CHECK(symbol_at("jellyfin via proxy jellyfin.home.arpa", "443/tcp") == "ok");
  // The other layer and the other sources get tables of their own.
  CHECK(std::count(lines.begin(), lines.end(), "layer node firewall alone, from lan (198.18.0.10)") == 1);
  CHECK(std::count(lines.begin(), lines.end(), "layer all, from vpn (198.18.0.10)") == 1);
}

TEST_CASE("text: ANSI colour only when asked, and never from a name", "[report][text]") {
  auto cells = sample();
  cells.push_back(make("lan\x1b[2J", "vm\x1b]0;owned\x07", 9, false, Verdict::delivered));
  const std::string plain = render_text(cells, facts(), false);
  const std::string coloured = render_text(cells, facts(), true);
  CHECK(plain.find('\x1b') == std::string::npos);
  CHECK(plain.find('\x07') == std::string::npos);
  CHECK(coloured.find("\x1b[1;31m!!\x1b[0m") != std::string::npos);  // violations red
  CHECK(coloured.find("\x1b[32mok\x1b[0m") != std::string::npos);    // proven green
  CHECK(coloured.find("\x1b[33m??\x1b[0m") != std::string::npos);    // inconclusive yellow
  CHECK(coloured.find("\x1b[2J") == std::string::npos);
  // Without the escapes the coloured report is the plain one: colour changes no column.
  const std::string stripped = std::regex_replace(coloured, std::regex("\x1b\\[[0-9;]*m"), "");
  CHECK(stripped == plain);
}

TEST_CASE("every report is the same whatever order the cells arrive in", "[report]") {
  const auto cells = sample();
  const std::string text = render_text(cells, facts(), true);
  const std::string js = render_json(cells, facts());
  const std::string junit = render_junit(cells, facts());
  const std::string metrics = render_metrics(cells, facts());
  std::mt19937 random(7);
  for (int round = 0; round < 20; ++round) {
    auto shuffled = cells;
    std::shuffle(shuffled.begin(), shuffled.end(), random);
    CHECK(render_text(shuffled, facts(), true) == text);
    CHECK(render_json(shuffled, facts()) == js);
    CHECK(render_junit(shuffled, facts()) == junit);
    CHECK(render_metrics(shuffled, facts()) == metrics);
  }
}

TEST_CASE("text: more than twelve ports wrap into blocks that stay narrow", "[report][text]") {
  std::vector<Cell> cells;
  for (std::uint16_t port = 1; port <= 30; ++port) cells.push_back(make("lan", "vm-intranet", static_cast<std::uint16_t>(port * 1000), false, Verdict::blocked));
  const auto lines = lines_of(render_text(cells, facts(), false));
  const auto is_header = [](const std::string& l) { return l.find("000/tcp") != std::string::npos && l.find("->") == std::string::npos; };
  const auto headers = std::count_if(lines.begin(), lines.end(), is_header);
  const auto rows = std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("  vm-intranet", 0) == 0; });
  CHECK(headers >= 3);  // 30 wide columns do not fit in two blocks
  CHECK(rows == headers);
  // Every port appears in exactly one header, in order.
  std::string all_headers;
  for (const auto& l : lines)
    if (is_header(l)) all_headers += l;
  std::size_t last = 0;
  for (int port = 1000; port <= 30000; port += 1000) {
    const std::string label = " " + std::to_string(port) + "/tcp";
    CHECK(count_of(all_headers, label) == 1);
    CHECK(all_headers.find(label) >= last);
    last = all_headers.find(label);
  }
  for (const auto& line : lines)
    if (line.rfind("  ", 0) == 0) CHECK(line.size() <= 120);
}

TEST_CASE("json: every field of every cell, the summary and the exit code", "[report][json]") {
  auto cells = sample();
  cells.push_back(make(hostile, "bad utf-8 \xFF\xC0\xAF", 7, true, Verdict::delivered));
  const json doc = json::parse(render_json(cells, facts()));
  CHECK(doc["policy"] == "policy/homelab.npol");
  CHECK(doc["policy_sha256"] == facts().policy_sha256);
  CHECK(doc["mode"] == "lab");
  CHECK(doc["started_utc"] == "2024-05-01T12:00:00Z");
  CHECK(doc["probes"] == 840);
  CHECK(doc["seconds"].get<double>() == Approx(1.05));
  CHECK(doc["rate"].get<double>() == Approx(800));
  CHECK(doc["summary"] == json{{"cells", 13}, {"proven", 9}, {"violations", 2}, {"inconclusive", 2}});
  CHECK(doc["exit_code"] == 1);
  REQUIRE(doc["cells"].size() == cells.size());

  std::size_t matched = 0;
  for (const auto& c : cells) {
    for (const auto& j : doc["cells"]) {
      if (j["source"] != c.source || j["destination"] != c.destination || j["port"] != c.port || j["layer"] != c.layer ||
          j["via"] != c.via || j["proto"] != to_string(c.proto))
        continue;
      ++matched;
      CHECK(j["source_address"] == c.source_address);
      CHECK(j["destination_address"] == c.destination_address);
      CHECK(j["expected_allowed"] == c.expected_allowed);
      CHECK(j["rule"] == c.rule);
      CHECK(j["observed"] == to_string(c.observed));
      CHECK(j["evidence"] == c.evidence);
      CHECK(j["proven"] == is_proven(c));
      CHECK(j["violation"] == is_violation(c));
    }
  }
  CHECK(matched == cells.size() - 1);  // all but the cell whose name was not UTF-8
  // That one survives, with U+FFFD for the bad bytes.
  CHECK(doc["cells"].dump().find("bad utf-8 \xEF\xBF\xBD") != std::string::npos);
}

TEST_CASE("junit: one testcase per cell, violations fail, inconclusive cells are skipped", "[report][junit]") {
  auto cells = sample();
  cells.push_back(make(hostile, hostile, 8080, false, Verdict::delivered, L4::tcp, "all", hostile));
  cells.push_back(make("ctl\x01\x1b", "bad \xFF", 9, true, Verdict::delivered));
  const std::string xml = render_junit(cells, facts());
  INFO(xml);
  CHECK(count_of(xml, "<testcase ") == cells.size());
  CHECK(count_of(xml, "<failure ") == 3);
  CHECK(count_of(xml, "<skipped ") == 2);
  CHECK(count_of(xml, "<testsuite ") == 2);  // one per layer
  CHECK(xml.find("<testsuites name=\"netverify\" tests=\"14\" failures=\"3\" errors=\"0\" skipped=\"2\"") != std::string::npos);
  CHECK(xml.find("name=\"lan -&gt; jellyfin:443/tcp [proxy jellyfin.home.arpa]\"") != std::string::npos);

  TempFile file(xml);
  if (executable("/usr/bin/xmllint")) {
    const Run lint = run("/usr/bin/xmllint --noout " + file.path + " 2>&1");
    INFO(lint.out);
    CHECK(lint.status == 0);
  }
  if (!executable("/usr/bin/python3")) {
    WARN("no /usr/bin/python3: the JUnit file is not read back by a real XML parser");
    return;
  }
  const json parsed = parse_junit_with_python(file.path);
  REQUIRE(parsed["cases"].size() == cells.size());
  std::size_t failures = 0, skipped = 0;
  bool hostile_found = false;
  for (const auto& c : parsed["cases"]) {
    failures += c["failure"].get<std::size_t>();
    skipped += c["skipped"].get<std::size_t>();
    if (c["classname"] == hostile) {
      hostile_found = true;
      // Quotes, markup, backslash, newline, tab and non-ASCII all come back exactly.
      CHECK(c["name"] == hostile + " -> " + hostile + ":8080/tcp [" + hostile + "]");
      CHECK(c["failure"] == 1);
    }
  }
  CHECK(hostile_found);
  CHECK(failures == 3);
  CHECK(skipped == 2);
  // Characters XML cannot carry became U+FFFD instead of breaking the file.
  CHECK(parsed.dump().find("ctl\xEF\xBF\xBD\xEF\xBF\xBD") != std::string::npos);
  REQUIRE(parsed["suites"].size() == 2);
  CHECK(parsed["suites"][0] == json{{"name", "netverify: all"}, {"tests", "12"}, {"failures", "3"}, {"skipped", "2"}});
  CHECK(parsed["suites"][1] == json{{"name", "netverify: node firewall alone"}, {"tests", "2"}, {"failures", "0"}, {"skipped", "0"}});
}

TEST_CASE("metrics: well-formed exposition format, with the values of the run", "[report][metrics]") {
  const std::string metrics = render_metrics(sample(), facts());
  INFO(metrics);
  static const std::regex comment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$|^# .*$)");
  static const std::regex sample_line(
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? -?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$)");
  std::set<std::string> typed;
  for (const auto& line : lines_of(metrics)) {
    INFO(line);
    if (line.rfind("#", 0) == 0) {
      CHECK(std::regex_match(line, comment));
      if (line.rfind("# TYPE ", 0) == 0) typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    CHECK(std::regex_match(line, sample_line));
    CHECK(typed.count(line.substr(0, line.find_first_of("{ "))) == 1);  // TYPE comes before the samples
  }
  for (const char* name : {"netverify_cells", "netverify_violations", "netverify_inconclusive", "netverify_last_run_timestamp_seconds",
                           "netverify_duration_seconds", "netverify_probes_total", "netverify_cell_ok"})
    CHECK(typed.count(name) == 1);
  CHECK(metrics.find("\nnetverify_violations 2\n") != std::string::npos);
  CHECK(metrics.find("\nnetverify_inconclusive 2\n") != std::string::npos);
  CHECK(metrics.find("\nnetverify_probes_total 840\n") != std::string::npos);
  CHECK(metrics.find("\nnetverify_duration_seconds 1.05\n") != std::string::npos);
  CHECK(metrics.find("\nnetverify_last_run_timestamp_seconds 1714564800\n") != std::string::npos);
  CHECK(metrics.find("\nnetverify_cells{verdict=\"delivered\",expected=\"forbidden\"} 1\n") != std::string::npos);
  CHECK(metrics.find("\nnetverify_cells{verdict=\"nothing-listening\",expected=\"forbidden\"} 0\n") != std::string::npos);
  CHECK(metrics.find("\nnetverify_cell_ok{source=\"lan\",destination=\"vm-intranet\",port=\"5432\",proto=\"tcp\",layer=\"all\",via=\"\"} 0\n") != std::string::npos);
  CHECK(metrics.find("\nnetverify_cell_ok{source=\"lan\",destination=\"vm-intranet\",port=\"5432\",proto=\"tcp\",layer=\"node firewall alone\",via=\"\"} 1\n") != std::string::npos);
  CHECK(metrics.find("node_exporter") != std::string::npos);
  CHECK(count_of(metrics, "netverify_cell_ok{") == sample().size());
}

TEST_CASE("metrics: hostile label values are escaped and read back unchanged", "[report][metrics]") {
  RunFacts f = facts();
  f.policy = hostile;
  auto cells = sample();
  cells.push_back(make(hostile, "dst\\\"", 1, false, Verdict::blocked, L4::udp, "x\ny", hostile));
  // Two cells with the same labels make one series, 0 since one of them is not proven.
  cells.push_back(make("dup", "d", 2, true, Verdict::delivered));
  cells.push_back(make("dup", "d", 2, true, Verdict::blocked));
  const std::string metrics = render_metrics(cells, f);
  bool found = false, info_found = false;
  for (const auto& line : lines_of(metrics)) {
    const auto labels = labels_of(line);
    if (line.rfind("netverify_info{", 0) == 0) {
      info_found = true;
      CHECK(labels.at("policy") == hostile);
    }
    if (line.rfind("netverify_cell_ok{", 0) == 0 && labels.at("source") == hostile) {
      found = true;
      CHECK(labels.at("destination") == "dst\\\"");
      CHECK(labels.at("layer") == "x\ny");
      CHECK(labels.at("via") == hostile);
      CHECK(labels.at("proto") == "udp");
      CHECK(line.back() == '1');
    }
  }
  CHECK(found);
  CHECK(info_found);
  CHECK(count_of(metrics, "netverify_cell_ok{source=\"dup\"") == 1);
  CHECK(metrics.find("netverify_cell_ok{source=\"dup\",destination=\"d\",port=\"2\",proto=\"tcp\",layer=\"all\",via=\"\"} 0\n") != std::string::npos);
}

TEST_CASE("the example Grafana dashboard parses and queries only metrics netverify writes", "[report][grafana]") {
  std::ifstream file(std::string(NETPOL_SOURCE_DIR) + "/docs/examples/netverify-grafana-dashboard.json");
  REQUIRE(file);
  const json dashboard = json::parse(file);
  CHECK(dashboard["schemaVersion"].get<int>() >= 36);
  const auto& variables = dashboard["templating"]["list"];
  CHECK(std::any_of(variables.begin(), variables.end(),
                    [](const json& v) { return v["type"] == "datasource" && v["query"] == "prometheus"; }));

  const std::set<std::string> written = metric_names(render_metrics(sample(), facts()));
  std::vector<std::string> queries;
  for (const auto& v : variables)
    if (v.contains("definition")) queries.push_back(v["definition"]);
  std::map<std::string, std::string> type_of_title;
  for (const auto& panel : dashboard["panels"]) {
    type_of_title[panel["title"]] = panel["type"];
    for (const auto& target : panel["targets"]) queries.push_back(target["expr"]);
  }
  const std::regex metric(R"(netverify_[a-z_]+)");
  std::size_t names_checked = 0;
  for (const auto& query : queries) {
    INFO(query);
    for (auto it = std::sregex_iterator(query.begin(), query.end(), metric); it != std::sregex_iterator(); ++it) {
      CHECK(written.count(it->str()) == 1);
      ++names_checked;
    }
  }
  CHECK(names_checked >= 8);

  CHECK(type_of_title["Violations"] == "stat");
  CHECK(type_of_title["Inconclusive cells"] == "stat");
  CHECK(type_of_title["Cells by verdict"] == "timeseries");
  CHECK(type_of_title["Run duration and probes"] == "timeseries");
  CHECK(type_of_title["Failing cells"] == "table");
  for (const auto& panel : dashboard["panels"]) {
    if (panel["title"] == "Violations") {
      const auto& steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"];
      CHECK(steps.back() == json{{"color", "red"}, {"value", 1}});
    }
    if (panel["title"] == "Failing cells")
      CHECK(panel["targets"][0]["expr"].get<std::string>().find("netverify_cell_ok{instance=~\"$instance\"} == 0") != std::string::npos);
  }
}
