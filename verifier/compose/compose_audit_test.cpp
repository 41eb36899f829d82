// The compose audit: each finding against a small policy, with its code and place.
#include "compose_audit.h"

#include <catch2/catch.hpp>

#include "compose_codes.h"
#include "compose_test_support.h"

using namespace netpol;
using namespace netpol::compose;
using compose::testing::codes;
using compose::testing::read_text;

namespace {

struct Audited {
  std::unique_ptr<compose::testing::Read> read;
  std::vector<PortReport> rows;
};

Audited audit(const Compilation& c, const std::string& host, const std::string& yaml) {
  REQUIRE(c.ok());
  Audited a{read_text(yaml), {}};
  Matrix matrix(c.policy);
  a.rows = audit_compose(c.policy, matrix, *c.policy.find_host(host), a.read->file, a.read->diags);
  return a;
}

const Diagnostic& finding(const Audited& a, std::string_view code) {
  for (const auto& d : a.read->diags.all())
    if (d.code == code) return d;
  FAIL("no " << code);
  throw;
}

}  // namespace

TEST_CASE("ports the policy allows are fine, and the report says by which rule", "[compose][audit]") {
  auto c = netpol::testing::compile_text(compose::testing::kPolicy);
  auto a = audit(*c, "app", R"(services:
  web:
    ports:
      - "8080:8080"
      - "5000-5010:5000-5010/udp"
      - "127.0.0.1:5432:5432"
      - "[::1]:6000:6000"
    expose:
      - "7000"
)");
  CHECK(a.read->diags.all().empty());
  REQUIRE(a.rows.size() == 5);
  CHECK(a.rows[0].verdict == Verdict::allowed);
  REQUIRE(a.rows[0].grants.size() == 1);
  CHECK(a.rows[0].grants[0].source == "lan");
  CHECK(a.rows[0].grants[0].where == "main.npol:15");
  CHECK(a.rows[0].grants[0].ports == "tcp/8080");
  CHECK(a.rows[1].verdict == Verdict::allowed);
  CHECK(a.rows[1].checked == "udp/5000-5010");
  CHECK(a.rows[2].verdict == Verdict::local);  // Postgres on loopback: the `never` is not broken
  CHECK(a.rows[3].verdict == Verdict::local);
  CHECK(a.rows[4].verdict == Verdict::not_published);
}

TEST_CASE("E901: a published port no flow allows", "[compose][audit]") {
  auto c = netpol::testing::compile_text(compose::testing::kPolicy);
  auto a = audit(*c, "app", R"(services:
  web:
    ports:
      - "8081:8081"
      - "5000-5011:5000-5011/udp"
      - "198.18.2.10:9000:9000"
)");
  CHECK(codes(a.read->sources, a.read->diags) == std::vector<std::string>{"E901@4:9", "E901@5:9", "E901@6:9"});
  const auto& sorted = a.read->diags.sorted();
  CHECK(sorted[0].message == "the service 'web' publishes tcp/8081 on every address of app, and no flow of the policy allows it");
  CHECK_THAT(sorted[0].hints[0], Catch::Contains("before ufw's INPUT rules") && Catch::Contains("Docker-aware ufw output"));
  CHECK_THAT(sorted[1].message, Catch::Contains("publishes udp/5011 on every address"));  // only the part no flow allows
  CHECK_THAT(sorted[2].message, Catch::Contains("publishes tcp/9000 on 198.18.2.10 of app"));
  REQUIRE(sorted[2].hints.size() == 3);  // a `never` from some sources is named
  CHECK_THAT(sorted[2].hints[2], Catch::Contains("never internet -> app : tcp/9000") && Catch::Contains("main.npol:14"));
  CHECK(a.rows[0].verdict == Verdict::exposed);
  CHECK(a.rows[1].grants.size() == 1);
}

TEST_CASE("E902: a port a `never any` keeps local, published beyond loopback", "[compose][audit]") {
  auto c = netpol::testing::compile_text(compose::testing::kPolicy);
  auto a = audit(*c, "app", R"(services:
  db:
    profiles: ["backup"]
    ports:
      - target: 5432
        published: 5432
      - "0.0.0.0:15432:5432"
)");
  CHECK(codes(a.read->sources, a.read->diags) == std::vector<std::string>{"E902@6:9", "E902@7:9"});
  const auto& d = finding(a, code::kKeptLocal);
  CHECK(d.message ==
        "the service 'db' (started only with the profile 'backup') publishes tcp/5432 on every address of app, which the "
        "policy keeps local: 'never any -> app : postgres' (main.npol:13)");
  CHECK_THAT(d.hints[0], Catch::Contains("127.0.0.1:5432:5432"));
  CHECK(a.rows[0].verdict == Verdict::kept_local);
}

TEST_CASE("W903: host port and container port differ; the policy is asked about the published one", "[compose][audit]") {
  auto c = netpol::testing::compile_text(compose::testing::kPolicy);
  auto a = audit(*c, "app", R"(services:
  web:
    ports: ["18080:8080", "8080:18080"]
)");
  // Clients connect to the host port, which netpol's Docker part matches: 18080 -> 8080 is not
  // allowed (the policy names tcp/8080), 8080 -> 18080 is allowed but remapped.
  CHECK(codes(a.read->sources, a.read->diags) == std::vector<std::string>{"E901@3:13", "W903@3:27"});
  const auto& d = finding(a, code::kPortRemapped);
  CHECK_THAT(d.message, Catch::Contains("host port tcp/8080 for container port tcp/18080"));
  CHECK_THAT(d.hints[0], Catch::Contains("matches the published port tcp/8080"));
  CHECK(a.rows[1].verdict == Verdict::allowed);
}

TEST_CASE("W904: network_mode host cannot be audited", "[compose][audit]") {
  auto c = netpol::testing::compile_text(compose::testing::kPolicy);
  auto a = audit(*c, "app", R"(services:
  exporter:
    image: prom/node-exporter
    network_mode: "host"
    ports: ["9100:9100"]
)");
  CHECK(codes(a.read->sources, a.read->diags) == std::vector<std::string>{"W904@4:5"});
  CHECK_THAT(finding(a, code::kHostNetwork).message, Catch::Contains("Docker ignores its 'ports'"));
  REQUIRE(a.rows.size() == 1);
  CHECK(a.rows[0].verdict == Verdict::host_network);
}

TEST_CASE("W905: a random host port", "[compose][audit]") {
  auto c = netpol::testing::compile_text(compose::testing::kPolicy);
  auto a = audit(*c, "app", "services:\n  web:\n    ports:\n      - 3000\n      - target: 3000\n");
  CHECK(codes(a.read->sources, a.read->diags) == std::vector<std::string>{"W905@4:9", "W905@5:9"});
  CHECK(a.rows[0].verdict == Verdict::allowed);  // proxy -> app : tcp/3000
  CHECK(a.rows[0].host_ports == "random");
}

TEST_CASE("W907: a compose file for a host without docker", "[compose][audit]") {
  auto c = netpol::testing::compile_text(compose::testing::kPolicy);
  auto a = audit(*c, "proxy", "name: p\nservices:\n  web:\n    image: nginx\n");
  CHECK(codes(a.read->sources, a.read->diags) == std::vector<std::string>{"W907@2:1"});
  CHECK_THAT(finding(a, code::kNotDocker).message, Catch::StartsWith("proxy does not declare 'docker'"));
}

TEST_CASE("the homelab's example compose files pass the audit", "[compose][audit][homelab]") {
  auto c = netpol::testing::compile_repo_file("policy/homelab.npol");
  REQUIRE(c->ok());
  for (const auto& host : {"vm-intranet", "vm-extranet"}) {
    const auto& h = c->policy.hosts[static_cast<std::size_t>(*c->policy.find_host(host))];
    CHECK(h.docker);
    REQUIRE(h.compose_files.size() == 1);
  }
  auto lab = netpol::testing::compile_repo_file("policy/lab.npol");
  REQUIRE(lab->ok());
  CHECK(lab->policy.hosts[static_cast<std::size_t>(*lab->policy.find_host("vm-intranet"))].docker);
}
