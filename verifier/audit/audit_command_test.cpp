// The wiring netpolc uses: add_*_command on a CLI::App, parse, compile, run_*_command.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "audit_command.h"
#include "test_support.h"

using namespace netpol;

namespace {

void parse(CLI::App& app, std::vector<std::string> args) {
  std::vector<char*> argv;
  std::string program = "netpolc";
  argv.push_back(program.data());
  for (auto& a : args) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
}

std::unique_ptr<Compilation> compile_path(const std::string& path) {
  DiskFileReader reader;
  return check_policy(path, reader);
}

const std::string kHomelab = std::string(NETPOL_SOURCE_DIR) + "/policy/homelab.npol";

struct PathGuard {  // restores PATH
  std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  ~PathGuard() { ::setenv("PATH", saved.c_str(), 1); }
};

}  // namespace

TEST_CASE("audit through the command line: formats and options", "[audit][cli]") {
  CLI::App app{"netpolc"};
  AuditCommand options;
  auto* audit = add_audit_command(app, options);
  parse(app, {"audit", kHomelab, "--format", "json"});
  REQUIRE(audit->parsed());
  CHECK(options.policy == kHomelab);
  CHECK(options.format == "json");

  auto c = compile_path(options.policy);
  std::ostringstream out, err;
  CHECK(run_audit_command(options, *c, out, err) == 0);
  auto json = nlohmann::json::parse(out.str());
  CHECK(json["format"] == "netpol-audit/1");
  CHECK(json["sources"][0]["name"] == "internet");
  CHECK(err.str().empty());

  CLI::App bad{"netpolc"};
  AuditCommand bad_options;
  add_audit_command(bad, bad_options);
  CHECK_THROWS_AS(parse(bad, {"audit", kHomelab, "--format", "yaml"}), CLI::ValidationError);
}

TEST_CASE("audit: an unreadable policy is exit 2, a policy with errors exit 1", "[audit][cli]") {
  AuditCommand options{"/nonexistent/x.npol", "text", ""};
  std::ostringstream out, err;
  CHECK(run_audit_command(options, *compile_path(options.policy), out, err) == 2);
  auto broken = testing::compile_text("zone lan\nallow lan -> nowhere : tcp/22\n");
  REQUIRE_FALSE(broken->ok());
  CHECK(run_audit_command(AuditCommand{"main.npol", "text", ""}, *broken, out, err) == 1);
  CHECK(out.str().empty());
}

TEST_CASE("audit --svg draws with Graphviz, or says it skipped", "[audit][cli][svg]") {
  PathGuard guard;
  auto c = compile_path(kHomelab);
  auto svg = std::filesystem::temp_directory_path() / ("netpol-audit-test-" + std::to_string(::getpid()) + ".svg");
  std::filesystem::remove(svg);
  AuditCommand options{kHomelab, "text", svg.string()};

  SECTION("without dot on PATH") {
    ::setenv("PATH", "/nonexistent", 1);
    std::ostringstream out, err;
    CHECK(run_audit_command(options, *c, out, err) == 0);
    CHECK(err.str().find("--svg skipped: Graphviz `dot` is not on PATH") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(svg));
    CHECK(out.str().find("internet (zone, catch-all: the internet) reaches 7:") != std::string::npos);
  }
  SECTION("with dot") {
    if (find_dot().empty()) {
      WARN("Graphviz dot is not installed (apt-get install graphviz): the SVG is not tested");
      return;
    }
    std::ostringstream out, err;
    CHECK(run_audit_command(options, *c, out, err) == 0);
    CHECK(err.str().empty());
    std::ifstream f(svg);
    std::stringstream ss;
    ss << f.rdbuf();
    CHECK(ss.str().find("<svg") != std::string::npos);
    CHECK(ss.str().find("jellyfin.home.arpa") != std::string::npos);
    std::filesystem::remove(svg);
  }
}

TEST_CASE("diff through the command line: exit codes", "[diff][cli]") {
  auto dir = std::filesystem::temp_directory_path() / ("netpol-diff-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "old.npol") << "zone lan\nzone dmz\naddress lan 198.18.1.0/24\naddress dmz 198.18.2.0/24\n";
  std::ofstream(dir / "new.npol") << "zone lan\nzone dmz\naddress lan 198.18.1.0/24\naddress dmz 198.18.2.0/24\n"
                                     "allow lan -> dmz : tcp/22\n";

  CLI::App app{"netpolc"};
  DiffCommand options;
  auto* diff = add_diff_command(app, options);
  parse(app, {"diff", (dir / "old.npol").string(), (dir / "new.npol").string(), "--fail-on-new-exposure", "--format",
              "json"});
  REQUIRE(diff->parsed());
  CHECK(options.fail_on_new_exposure);
  auto old_c = compile_path(options.old_policy);
  auto new_c = compile_path(options.new_policy);
  INFO(testing::rendered(*old_c) << testing::rendered(*new_c));
  std::ostringstream out, err;
  CHECK(run_diff_command(options, *old_c, *new_c, out, err) == 1);
  auto json = nlohmann::json::parse(out.str());
  CHECK(json["exposure"]["gained"][0]["target"] == "dmz:tcp/22");
  // The other way round removes exposure: not a failure.
  std::ostringstream out2;
  CHECK(run_diff_command(options, *new_c, *old_c, out2, err) == 0);
  // Unreadable: 2.
  auto missing = compile_path((dir / "missing.npol").string());
  CHECK(run_diff_command(options, *old_c, *missing, out2, err) == 2);
  std::filesystem::remove_all(dir);

  CLI::App app2{"netpolc"};
  DiffCommand o2;
  add_diff_command(app2, o2);
  CHECK_THROWS_AS(parse(app2, {"diff", "only-one.npol"}), CLI::RequiredError);
}
