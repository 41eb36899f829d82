// The exposure graph: the homelab's internet exposure, a published backend's exact path,
// and the golden outputs (deterministic).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "audit_render.h"
#include "exposure.h"
#include "test_support.h"

using namespace netpol;
using namespace netpol::audit;

namespace {

std::set<std::string> reached_names(const Exposure& e, const std::string& source, bool direct_only = false) {
  std::set<std::string> out;
  const auto* s = e.source(source);
  REQUIRE(s != nullptr);
  for (const auto& r : s->reached)
    if (!direct_only || r.direct) out.insert(e.vertex(r.vertex).name);
  return out;
}

const Reached& reached(const Exposure& e, const std::string& source, const std::string& target) {
  const auto* s = e.source(source);
  REQUIRE(s != nullptr);
  for (const auto& r : s->reached)
    if (e.vertex(r.vertex).name == target) return r;
  FAIL(source << " does not reach " << target);
  throw std::logic_error("unreachable");
}

// Does any vertex `source` reaches stand for host:proto/port?
bool reaches_port(const Exposure& e, const SourceReach& s, const std::string& host, ir::Proto proto, std::uint16_t port) {
  for (const auto& r : s.reached) {
    const auto& v = e.vertex(r.vertex);
    if (v.kind == VertexKind::service && v.atom == AtomKey{true, host} && v.proto == proto && v.ports.first <= port &&
        port <= v.ports.last)
      return true;
  }
  return false;
}

const char* kPublished = R"(
zone lan      { bridge vmbr0 }
zone dmz      { bridge vmbr1 }
zone internet
address lan      198.18.1.0/24
address dmz      198.18.10.0/24
address internet 0.0.0.0/0, ::/0
host app   in lan { vmid 100 }
host proxy in dmz { vmid 101 }
address app   198.18.1.20
address proxy 198.18.10.10
service https tcp/443
service web   tcp/8080
allow lan -> proxy : https
publish app.example on proxy -> app:web { tls  from internet }
)";

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// "flows.npol:68": where the homelab's flows.npol says `needle` (so the tests follow edits of the policy).
std::string at(const std::string& needle) {
  std::istringstream in(read_file(std::filesystem::path(NETPOL_SOURCE_DIR) / "policy/flows.npol"));
  std::string line;
  for (int n = 1; std::getline(in, line); ++n)
    if (line.find(needle) != std::string::npos) return "flows.npol:" + std::to_string(n);
  FAIL("flows.npol has no " << needle);
  return {};
}

}  // namespace

TEST_CASE("homelab: the internet reaches only OpenVPN directly, and through the VPN what the vpn zone may use",
          "[audit][homelab]") {
  auto c = testing::compile_repo_file("policy/homelab.npol");
  REQUIRE(c->ok());
  Exposure e(c->policy);

  // The internet first.
  REQUIRE(!e.sources().empty());
  CHECK(e.vertex(e.sources().front().vertex).name == "internet");

  CHECK(reached_names(e, "internet", true) == std::set<std::string>{"vm-extranet:udp/1194"});
  const auto& openvpn = reached(e, "internet", "vm-extranet:udp/1194");
  CHECK(openvpn.direct);
  CHECK(openvpn.path.size() == 1);
  CHECK(openvpn.path[0].edge.rules == std::vector<std::string>{at("vpn remote on vm-extranet")});

  // Exactly: the VPN, then what the vpn zone reaches (the proxy, Jellyfin and Immich behind it); not Grafana (from lan only).
  CHECK(reached_names(e, "internet") ==
        std::set<std::string>{"vm-extranet:udp/1194", "vpn", "vm-extranet:tcp/443",
                              "vm-extranet:tcp/443 [jellyfin.home.arpa]", "vm-extranet:tcp/443 [photos.home.arpa]",
                              "vm-intranet:tcp/8096", "vm-intranet:tcp/2283"});
  const auto vpn = at("vpn remote on vm-extranet");
  const auto jellyfin_name = at("publish jellyfin.home.arpa");
  CHECK(e.path_text(reached(e, "internet", "vm-extranet:tcp/443").path) ==
        "internet -> vm-extranet:udp/1194 [" + vpn + "] -> vpn [vpn remote, " + vpn + "] -> vm-extranet:tcp/443 [" +
            jellyfin_name + "]");
  const auto& jellyfin = reached(e, "internet", "vm-intranet:tcp/8096");
  CHECK_FALSE(jellyfin.direct);
  CHECK(jellyfin.hops == 4);
  CHECK(e.path_text(jellyfin.path) ==
        "internet -> vm-extranet:udp/1194 [" + vpn + "] -> vpn [vpn remote, " + vpn +
            "] -> vm-extranet:tcp/443 [jellyfin.home.arpa] [" + jellyfin_name + "; publish " + jellyfin_name +
            "] -> vm-intranet:tcp/8096 [proxied; " + at("allow extranet -> intranet") + "]");

  // Grafana is published to the LAN only.
  CHECK(reached_names(e, "lan").count("vm-intranet:tcp/3000") == 1);
  CHECK(reached_names(e, "vpn").count("vm-intranet:tcp/3000") == 0);

  // Postgres: reachable from nowhere (its own host talks to it locally, not through the matrix).
  for (const auto& s : e.sources()) {
    INFO("source " << e.vertex(s.vertex).name);
    CHECK_FALSE(reaches_port(e, s, "vm-intranet", ir::Proto::tcp, 5432));
  }
}

TEST_CASE("a published name makes its backend transitively reachable, only from the name's `from`", "[audit]") {
  auto c = testing::compile_text(kPublished);
  INFO(testing::rendered(*c));
  REQUIRE(c->ok());
  Exposure e(c->policy);
  const auto& app = reached(e, "internet", "app:tcp/8080");
  CHECK_FALSE(app.direct);
  CHECK(app.hops == 2);
  CHECK(e.path_text(app.path) ==
        "internet -> proxy:tcp/443 [app.example] [main.npol:15; publish main.npol:15] -> app:tcp/8080 [proxied; main.npol:15]");
  REQUIRE(app.path.size() == 2);
  CHECK(app.path[0].edge.kind == EdgeKind::proxy_name);
  CHECK(app.path[1].edge.kind == EdgeKind::proxy_backend);

  // The LAN reaches the proxy's port by its own rule, but the name is not published to it.
  CHECK(reached_names(e, "lan") == std::set<std::string>{"proxy:tcp/443"});
  // Only the proxy itself reaches the backend directly.
  CHECK(reached_names(e, "proxy", true) == std::set<std::string>{"app:tcp/8080"});
}

TEST_CASE("audit outputs are deterministic and match the goldens", "[audit][golden]") {
  auto c = testing::compile_repo_file("policy/homelab.npol");
  REQUIRE(c->ok());
  Exposure e1(c->policy), e2(c->policy);
  const std::filesystem::path dir = std::filesystem::path(NETPOL_SOURCE_DIR) / "tests/golden/audit";
  const bool update = std::getenv("NETPOL_UPDATE_GOLDEN") != nullptr;
  struct Case {
    std::string file;
    std::string first, second;
  };
  std::vector<Case> cases{
      {"homelab.txt", audit_text(c->policy, e1), audit_text(c->policy, e2)},
      {"homelab.json", audit_json(c->policy, e1).dump(2) + "\n", audit_json(c->policy, e2).dump(2) + "\n"},
      {"homelab.md", audit_markdown(c->policy, e1), audit_markdown(c->policy, e2)},
      {"homelab.dot", audit_dot(c->policy, e1), audit_dot(c->policy, e2)},
  };
  for (const auto& k : cases) {
    INFO("golden " << (dir / k.file).string() << "; regenerate: NETPOL_UPDATE_GOLDEN=1 netpol_audit_tests '[golden]'");
    CHECK(k.first == k.second);
    if (update) {
      std::filesystem::create_directories(dir);
      std::ofstream(dir / k.file, std::ios::binary) << k.first;
    }
    CHECK(read_file(dir / k.file) == k.first);
  }
}

TEST_CASE("a published name is not a way in for a source the matrix keeps from the proxy's port", "[audit]") {
  std::string text = kPublished;
  auto at = text.find("publish ");
  text.insert(at, "allow internet -> proxy : web\ndeny internet -> proxy : https\n");
  auto c = testing::compile_text(text);
  INFO(testing::rendered(*c));
  REQUIRE(c->ok());
  Exposure e(c->policy);
  CHECK(reached_names(e, "internet") == std::set<std::string>{"proxy:tcp/8080"});
}
