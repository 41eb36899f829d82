// `netpolc audit POLICY --compose`: the command line through add_audit_command, which host each
// file belongs to, exit codes, and the homelab's example files against the homelab policy.
#include "compose_command.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "audit_command.h"
#include "compose_test_support.h"

using namespace netpol;
namespace fs = std::filesystem;

namespace {

const std::string kHomelab = std::string(NETPOL_SOURCE_DIR) + "/policy/homelab.npol";

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

// Parses like netpolc, compiles the policy from disk, runs the audit.
Run netpolc_audit(std::vector<std::string> args) {
  CLI::App app{"netpolc"};
  AuditCommand options;
  add_audit_command(app, options);
  args.insert(args.begin(), {"netpolc", "audit"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  DiskFileReader reader;
  auto c = check_policy(options.policy, reader);
  std::ostringstream out, err;
  Run r;
  r.status = run_audit_command(options, *c, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// A temporary folder with the small policy (main.npol, declaring app.yml) and given files.
struct Folder {
  fs::path dir = fs::temp_directory_path() / ("netpol-compose-test-" + std::to_string(::getpid()));
  explicit Folder(const std::map<std::string, std::string>& files) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    write("main.npol", compose::testing::kPolicy);
    for (const auto& [name, text] : files) write(name, text);
  }
  ~Folder() { fs::remove_all(dir); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(dir / name) << text; }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

}  // namespace

TEST_CASE("the homelab's example compose files pass the audit with the homelab policy", "[compose][cli][homelab]") {
  auto r = netpolc_audit({kHomelab, "--compose", "--werror"});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.err.empty());  // not even a warning
  CHECK_THAT(r.out, Catch::Contains("vm-intranet: " + std::string(NETPOL_SOURCE_DIR) + "/policy/compose/vm-intranet.yml"));
  CHECK_THAT(r.out, Catch::Contains("127.0.0.1:5432:5432  tcp/5432  local only (127.0.0.1)"));
  CHECK_THAT(r.out, Catch::Contains("1194:1194/udp    udp/1194  allowed from lan [flows.npol:"));

  auto json = nlohmann::json::parse(netpolc_audit({kHomelab, "--format", "json", "--compose"}).out);
  CHECK(json["ok"] == true);
  std::set<std::string> allowed, local;
  for (const auto& p : json["ports"]) {
    if (p["verdict"] == "allowed") allowed.insert(p["host"].get<std::string>() + ":" + p["container"].get<std::string>());
    if (p["verdict"] == "local") local.insert(p["host"].get<std::string>() + ":" + p["container"].get<std::string>());
  }
  CHECK(allowed == std::set<std::string>{"vm-intranet:tcp/8096", "vm-intranet:tcp/2283", "vm-intranet:tcp/9090",
                                         "vm-intranet:tcp/3000", "vm-extranet:tcp/80", "vm-extranet:tcp/443",
                                         "vm-extranet:udp/1194", "vm-extranet:tcp/9100"});
  CHECK(local == std::set<std::string>{"vm-intranet:tcp/5432", "vm-extranet:tcp/81"});
}

TEST_CASE("which host a compose file belongs to", "[compose][cli]") {
  auto c = netpol::testing::compile_repo_file("policy/homelab.npol");
  REQUIRE(c->ok());
  compose::ComposeCommand options;
  options.policy = kHomelab;
  std::string error;

  SECTION("none named: every file the policy declares, relative to the policy's folder") {
    auto targets = compose::compose_targets(options, c->policy, error);
    REQUIRE(targets.size() == 2);
    CHECK(targets[0].path == std::string(NETPOL_SOURCE_DIR) + "/policy/compose/vm-intranet.yml");
    CHECK(c->policy.hosts[static_cast<std::size_t>(targets[1].host)].name == "vm-extranet");
  }
  SECTION("a declared file named as it is written here") {
    options.files = {std::string(NETPOL_SOURCE_DIR) + "/policy/./compose/vm-extranet.yml"};
    auto targets = compose::compose_targets(options, c->policy, error);
    REQUIRE(targets.size() == 1);
    CHECK(c->policy.hosts[static_cast<std::size_t>(targets[0].host)].name == "vm-extranet");
  }
  SECTION("HOST=FILE") {
    options.files = {"vm-extranet=/tmp/other.yml"};
    auto targets = compose::compose_targets(options, c->policy, error);
    REQUIRE(targets.size() == 1);
    CHECK(targets[0].path == "/tmp/other.yml");
    CHECK(c->policy.hosts[static_cast<std::size_t>(targets[0].host)].name == "vm-extranet");
  }
  SECTION("an unknown host, with a suggestion") {
    options.files = {"vm-extarnet=/tmp/other.yml"};
    CHECK(compose::compose_targets(options, c->policy, error).empty());
    CHECK_THAT(error, Catch::Contains("no host 'vm-extarnet'") && Catch::Contains("did you mean 'vm-extranet'"));
  }
  SECTION("an undeclared file with two Docker hosts cannot be placed") {
    options.files = {"/tmp/other.yml"};
    CHECK(compose::compose_targets(options, c->policy, error).empty());
    CHECK_THAT(error, Catch::Contains("several declare docker (vm-intranet, vm-extranet)") &&
                          Catch::Contains("HOST=/tmp/other.yml"));
  }
}

TEST_CASE("an undeclared file goes to the one Docker host", "[compose][cli]") {
  Folder folder({{"app.yml", "services: {}\n"}, {"other.yml", "services:\n  web:\n    ports: [\"8080:8080\"]\n"}});
  auto r = netpolc_audit({folder.path("main.npol"), "--compose", folder.path("other.yml")});
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("app: " + folder.path("other.yml")));
}

TEST_CASE("compose audit exit codes: findings 1, warnings 0 (1 with --werror), usage 2", "[compose][cli]") {
  Folder folder({{"app.yml", "services:\n  web:\n    ports: [\"8081:8081\"]\n"},
                 {"warn.yml", "services:\n  web:\n    ports: [\"3000\"]\n"},
                 {"bad.yml", "services:\n  web: {ports: [\"80:80\"}\n"}});
  auto policy = folder.path("main.npol");

  auto exposed = netpolc_audit({policy, "--compose"});
  CHECK(exposed.status == 1);
  CHECK_THAT(exposed.err, Catch::Contains(folder.path("app.yml") + ":3:13: error[E901]: the service 'web' publishes tcp/8081"));
  CHECK_THAT(exposed.err, Catch::Contains("    3 |     ports: [\"8081:8081\"]\n      |             ^~~~~~~~~~~"));
  CHECK_THAT(exposed.err, Catch::EndsWith("1 error, 0 warnings\n"));

  CHECK(netpolc_audit({policy, "--compose", "app=" + folder.path("warn.yml")}).status == 0);
  CHECK(netpolc_audit({policy, "--werror", "--compose", "app=" + folder.path("warn.yml")}).status == 1);

  auto bad = netpolc_audit({policy, "--compose", "app=" + folder.path("bad.yml")});
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Catch::Contains(folder.path("bad.yml") + ":2:24: error[E900]: not valid YAML"));

  auto missing = netpolc_audit({policy, "--compose", "app=" + folder.path("nope.yml")});
  CHECK(missing.status == 2);
  CHECK_THAT(missing.err, Catch::StartsWith("netpolc: error: cannot read the compose file " + folder.path("nope.yml")));

  CHECK(netpolc_audit({policy, "--format", "md", "--compose"}).status == 2);
  auto sarif_alone = netpolc_audit({policy, "--format", "sarif"});
  CHECK(sarif_alone.status == 2);
  CHECK(sarif_alone.err == "netpolc: error: --format sarif needs --compose\n");
}
