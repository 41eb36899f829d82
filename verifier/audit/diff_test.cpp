// netpolc diff: flows added and removed as port sets, exposure gained and lost with paths,
// and no difference for a reordering that changes nothing.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "audit_command.h"
#include "diff.h"
#include "test_support.h"

using namespace netpol;
using namespace netpol::audit;

namespace {

std::string repo_file(const std::string& relative) {
  std::ifstream f(std::string(NETPOL_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The homelab, from memory, with flows.npol edited by `edit`.
template <typename Edit>
std::unique_ptr<Compilation> homelab(Edit edit) {
  std::string flows = repo_file("policy/flows.npol");
  REQUIRE(!flows.empty());
  edit(flows);
  return testing::compile({{"homelab.npol", repo_file("policy/homelab.npol")},
                           {"homelab-addresses.npol", repo_file("policy/homelab-addresses.npol")},
                           {"flows.npol", flows}},
                          "homelab.npol");
}

void replace(std::string& text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
}

// "flows.npol:N": where the homelab's flows.npol says `needle`, or (empty) the line appended after its end.
std::string at(const std::string& needle) {
  std::istringstream in(repo_file("policy/flows.npol"));
  std::string line;
  int n = 1;
  for (; std::getline(in, line); ++n)
    if (!needle.empty() && line.find(needle) != std::string::npos) return "flows.npol:" + std::to_string(n);
  REQUIRE(needle.empty());
  return "flows.npol:" + std::to_string(n);
}

std::string flow_row(const FlowChange& f) {
  return f.source.name + " -> " + f.destination.name + " " + f.port.str();
}

std::string exposure_row(const ExposureChange& x) { return x.source.name + " reaches " + x.target; }

struct Run {
  int status;
  std::string out, err;
};

Run run(const Compilation& a, const Compilation& b, const std::string& format, bool fail) {
  DiffCommand cmd{"old.npol", "new.npol", format, fail};
  std::ostringstream out, err;
  int status = run_diff_command(cmd, a, b, out, err);
  return {status, out.str(), err.str()};
}

}  // namespace

TEST_CASE("diff: opening Postgres from vm-extranet is an added flow and new exposure", "[diff]") {
  auto old_c = homelab([](std::string&) {});
  REQUIRE(old_c->ok());
  auto new_c = homelab([](std::string& t) { t += "allow vm-extranet -> vm-intranet : postgres\n"; });
  REQUIRE(new_c->checked);  // it breaks the postgres invariant, and the diff still shows what it opens

  auto d = diff_policies(old_c->policy, new_c->policy);
  REQUIRE(d.added.size() == 1);
  CHECK(flow_row(d.added[0]) == "vm-extranet -> vm-intranet tcp/5432");
  CHECK(d.added[0].rules == std::vector<std::string>{at("")});
  CHECK(d.removed.empty());
  REQUIRE(d.gained.size() == 1);
  CHECK(exposure_row(d.gained[0]) == "vm-extranet reaches vm-intranet:tcp/5432");
  CHECK(d.gained[0].path == "vm-extranet -> vm-intranet:tcp/5432 [" + at("") + "]");
  CHECK(d.lost.empty());

  auto with_flag = run(*old_c, *new_c, "md", true);
  CHECK(with_flag.status == 1);
  CHECK(with_flag.out.find("| `vm-extranet` | `vm-intranet:tcp/5432` |") != std::string::npos);
  CHECK(with_flag.out.find("**New exposure:**") != std::string::npos);
  CHECK(run(*old_c, *new_c, "md", false).status == 0);

  auto json = nlohmann::json::parse(run(*old_c, *new_c, "json", true).out);
  CHECK(json["new_exposure"] == true);
  CHECK(json["flows"]["added"][0]["service"] == "tcp/5432");
  CHECK(json["exposure"]["gained"][0]["target"] == "vm-intranet:tcp/5432");
  CHECK(json["exposure"]["gained"][0]["path"][0]["rules"][0] == at(""));
}

TEST_CASE("diff: a new way in through the VPN is gained exposure with its path", "[diff]") {
  auto old_c = homelab([](std::string&) {});
  auto new_c = homelab([](std::string& t) { t += "allow vpn -> vm-intranet : grafana\n"; });
  REQUIRE(new_c->ok());
  auto d = diff_policies(old_c->policy, new_c->policy);
  std::vector<std::string> gained;
  for (const auto& g : d.gained) gained.push_back(exposure_row(g) + " | " + g.path);
  const auto vpn = at("vpn remote on vm-extranet");
  CHECK(gained == std::vector<std::string>{
                      "internet reaches vm-intranet:tcp/3000 | internet -> vm-extranet:udp/1194 [" + vpn +
                          "] -> vpn [vpn remote, " + vpn + "] -> vm-intranet:tcp/3000 [" + at("") + "]",
                      "vpn reaches vm-intranet:tcp/3000 | vpn -> vm-intranet:tcp/3000 [" + at("") + "]"});
  CHECK(run(*old_c, *new_c, "md", true).status == 1);
}

TEST_CASE("diff: removing a flow is a removed flow and lost exposure, not new exposure", "[diff]") {
  auto old_c = homelab([](std::string&) {});
  auto new_c = homelab([](std::string& t) { replace(t, "allow vm-intranet -> vm-extranet : node-exporter", ""); });
  REQUIRE(new_c->ok());
  auto d = diff_policies(old_c->policy, new_c->policy);
  REQUIRE(d.removed.size() == 1);
  CHECK(flow_row(d.removed[0]) == "vm-intranet -> vm-extranet tcp/9100");
  CHECK(d.removed[0].rules == std::vector<std::string>{at("allow vm-intranet -> vm-extranet : node-exporter")});  // the old policy's line
  CHECK(d.added.empty());
  REQUIRE(d.lost.size() == 1);
  CHECK(exposure_row(d.lost[0]) == "vm-intranet reaches vm-extranet:tcp/9100");
  CHECK(d.gained.empty());
  auto r = run(*old_c, *new_c, "md", true);
  CHECK(r.status == 0);
  CHECK(r.out.find("### Flows removed") != std::string::npos);
  CHECK(r.out.find("### Exposure lost") != std::string::npos);
}

TEST_CASE("diff: reordering and splitting rules without a semantic change is an empty diff", "[diff]") {
  auto old_c = homelab([](std::string&) {});
  auto new_c = homelab([](std::string& t) {
    // Split one rule and swap its halves; swap two published names (which changes the rule that decides
    // vpn -> vm-extranet:443, not what is allowed); move a rule to the end.
    replace(t, "allow lan -> pve : ssh, pve-ui", "allow lan -> pve : pve-ui\nallow lan -> pve : ssh");
    replace(t, "publish jellyfin.home.arpa on vm-extranet -> vm-intranet:jellyfin   { tls  websocket  from lan, vpn }\n", "");
    replace(t, "publish grafana.home.arpa",
            "publish jellyfin.home.arpa on vm-extranet -> vm-intranet:jellyfin { tls websocket from lan, vpn }\n"
            "publish grafana.home.arpa");
    replace(t, "allow vm-intranet -> vm-extranet : node-exporter\n", "");
    t += "allow vm-intranet -> vm-extranet : node-exporter\n";
  });
  REQUIRE(new_c->ok());
  REQUIRE(new_c->policy.rules.size() == old_c->policy.rules.size() + 1);
  auto d = diff_policies(old_c->policy, new_c->policy);
  CHECK(d.added.empty());
  CHECK(d.removed.empty());
  CHECK(d.gained.empty());
  CHECK(d.lost.empty());
  auto r = run(*old_c, *new_c, "md", true);
  CHECK(r.status == 0);
  CHECK(r.out == "## netpol diff: `old.npol` -> `new.npol`\n\n"
                 "No semantic change: both policies allow the same flows and expose the same.\n");
  auto json = nlohmann::json::parse(run(*old_c, *new_c, "json", true).out);
  CHECK(json["flows"]["added"].empty());
  CHECK(json["exposure"]["gained"].empty());
  CHECK(json["new_exposure"] == false);
}

TEST_CASE("diff output is deterministic", "[diff]") {
  auto old_c = homelab([](std::string&) {});
  auto new_c = homelab([](std::string& t) {
    t += "allow vpn -> vm-intranet : grafana\n";
    replace(t, "allow vm-intranet -> vm-extranet : node-exporter", "");
  });
  REQUIRE(new_c->ok());
  auto a = run(*old_c, *new_c, "json", false);
  auto b = run(*old_c, *new_c, "json", false);
  CHECK(a.out == b.out);
  CHECK(run(*old_c, *new_c, "md", false).out == run(*old_c, *new_c, "md", false).out);
}
