// The UFW target on a Docker host: the after.rules block (DOCKER-USER polices Docker's traffic
// only, by conntrack), the script step, drift. The real ufw and Docker's iptables layout are in
// verifier/netverify/lab/docker_lab_test.cpp.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <sstream>

#include "drift.h"
#include "ufw_docker.h"
#include "ufw_drift.h"
#include "ufw_test_support.h"
#include "user_rules_reader.h"

using namespace netpol;
using namespace netpol::ufw::testing;
namespace fs = std::filesystem;

namespace {

const char* kPolicy = "tests/golden/ufw/policies/docker.npol";

// The block's iptables lines (no comments, no markers), in order.
std::vector<std::string> rule_lines(const std::string& block) {
  std::vector<std::string> out;
  std::istringstream in(block);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') out.push_back(line);
  return out;
}

std::size_t route_rules(const std::string& rules) {
  std::size_t n = 0;
  for (const auto& rr : ufw::read_user_rules(rules, false, "x.rules").rules) n += rr.rule.forward ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("ufw docker: goldens of tests/golden/ufw/docker/ and no drift when read back", "[ufw][docker][golden]") {
  auto out = emit_repo_policy(kPolicy);
  INFO(out.diagnostics);
  REQUIRE(out.compilation->ok());
  auto files = out.files;
  files["diagnostics.txt"] = out.diagnostics;
  fs::path dir = golden_root() / "docker";
  if (updating_goldens()) {
    fs::remove_all(dir);
    for (const auto& [name, text] : files) write_text(dir / name, text);
  }
  std::set<std::string> golden_names;
  for (const auto& e : fs::directory_iterator(dir)) golden_names.insert(e.path().filename().string());
  std::set<std::string> names;
  for (const auto& [name, text] : files) {
    names.insert(name);
    INFO("golden " << (dir / name).string() << " differs: regenerate with NETPOL_UPDATE_GOLDEN=1 and review the diff");
    CHECK(read_text(dir / name) == text);
  }
  CHECK(names == golden_names);
  // The drift reader skips media.after.rules.
  std::vector<std::string> errors;
  auto deployed = ufw_deployed(dir.string(), errors);
  CHECK(errors.empty());
  auto drift = compare(ufw_expected(out.compilation->policy), deployed);
  INFO(drift_text(drift));
  CHECK(drift.empty());
}

TEST_CASE("ufw docker: only the Docker host gets a block, and no host gets route rules", "[ufw][docker]") {
  auto out = emit_repo_policy(kPolicy);
  REQUIRE(out.compilation->ok());
  CHECK(out.files.count("media.after.rules") == 1);
  CHECK(out.files.count("plain.after.rules") == 0);
  CHECK(out.files.at("plain.sh").find("after.rules") == std::string::npos);
  // A route rule without interface would see all forwarded traffic, not only Docker's.
  CHECK(route_rules(out.files.at("media.rules")) == 0);
  CHECK(route_rules(out.files.at("plain.rules")) == 0);
  CHECK(out.files.at("media.sh").find("ufw route allow") == std::string::npos);
  // The INPUT and OUTPUT rules are still there, to and from the host's own address.
  CHECK(out.files.at("media.rules").find(
            "-A ufw-user-input -p tcp -m multiport --dports 22,8096 -d 198.18.1.10 -s 198.18.1.16/28 -j ACCEPT") !=
        std::string::npos);
}

TEST_CASE("ufw docker: the after.rules block - Docker's traffic by conntrack, the policy's flows, then DROP",
          "[ufw][docker]") {
  auto out = emit_repo_policy(kPolicy);
  REQUIRE(out.compilation->ok());
  const auto& block = out.files.at("media.after.rules");
  CHECK(block.rfind(std::string(ufw::kAfterRulesBegin) + "\n", 0) == 0);
  CHECK(block.ends_with(std::string(ufw::kAfterRulesEnd) + "\n"));
  // Exactly these lines, in this order, in iptables-save's form (the lab compares them live).
  CHECK(rule_lines(block) == std::vector<std::string>{
            "*filter",
            ":DOCKER-USER - [0:0]",
            ":netpol-docker-in - [0:0]",
            ":netpol-docker-out - [0:0]",
            "-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
            "-A DOCKER-USER -m conntrack --ctstate DNAT -j netpol-docker-in",
            "-A DOCKER-USER -i docker0 -j netpol-docker-out",
            "-A DOCKER-USER -i br-+ -j netpol-docker-out",
            "-A DOCKER-USER -j RETURN",
            // trusted -> media : tcp/22, tcp/8096, on the original destination (the published port)
            "-A netpol-docker-in -s 198.18.1.16/28 -p tcp -m conntrack --ctorigdst 198.18.1.10 --ctorigdstport 22 -j RETURN",
            "-A netpol-docker-in -s 198.18.1.16/28 -p tcp -m conntrack --ctorigdst 198.18.1.10 --ctorigdstport 8096 -j RETURN",
            "-A netpol-docker-in -j DROP",
            "-A netpol-docker-out -o docker0 -j RETURN",
            "-A netpol-docker-out -o br-+ -j RETURN",
            // media -> trusted : udp/53, tcp/7000
            "-A netpol-docker-out -d 198.18.1.16/28 -p udp -m multiport --dports 53 -j RETURN",
            "-A netpol-docker-out -d 198.18.1.16/28 -p tcp -m multiport --dports 7000 -j RETURN",
            "-A netpol-docker-out -j DROP",
            "COMMIT"});
  // Each policy rule's lines follow its comment.
  CHECK(block.find("# docker.npol:19 allow trusted -> media : tcp/22, tcp/8096\n-A netpol-docker-in") !=
        std::string::npos);
  // No blanket exception by source (the usual recipe's RETURN -s 10/8, 172.16/12, 192.168/16);
  // `plain`'s flow and the guests appear nowhere.
  CHECK(block.find("198.18.1.11") == std::string::npos);
  CHECK(block.find("198.18.2.") == std::string::npos);
  for (const auto& name : {std::string(ufw::kDockerInChain), std::string(ufw::kDockerOutChain)})
    CHECK(name.size() <= 28);  // iptables' chain name limit
}

TEST_CASE("ufw docker: ranges, several addresses and IPv6 - one conntrack match per port range, IPv4 only",
          "[ufw][docker]") {
  auto out = emit_text(R"(zone servers { bridge vmbr0 }
zone clients
address servers 198.18.1.0/24, 2001:db8:1::/64
address clients 198.18.2.0/24, 2001:db8:2::/64
host media in servers { vmid 100 docker "compose.yml" }
address media 198.18.1.10, 198.18.1.11, 2001:db8:1::10
allow clients -> media : tcp/1000-2000, tcp/2001, udp/5000
allow media -> clients : tcp/80, tcp/443, tcp/8000-8100
)");
  INFO(out.diagnostics);
  REQUIRE(out.compilation->ok());
  const auto lines = rule_lines(out.files.at("media.after.rules"));
  auto has = [&](const std::string& line) { return std::find(lines.begin(), lines.end(), line) != lines.end(); };
  // Adjacent ranges merged as for the ufw rules: 1000-2000 and 2001 -> 1000:2001.
  for (const char* a : {"198.18.1.10", "198.18.1.11"}) {
    INFO(a);
    CHECK(has(std::string("-A netpol-docker-in -s 198.18.2.0/24 -p tcp -m conntrack --ctorigdst ") + a +
              " --ctorigdstport 1000:2001 -j RETURN"));
    CHECK(has(std::string("-A netpol-docker-in -s 198.18.2.0/24 -p udp -m conntrack --ctorigdst ") + a +
              " --ctorigdstport 5000 -j RETURN"));
  }
  CHECK(has("-A netpol-docker-out -d 198.18.2.0/24 -p tcp -m multiport --dports 80,443,8000:8100 -j RETURN"));
  CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.ends_with("-j RETURN"); }) ==
        2 + 4 + 2 + 1);  // DOCKER-USER (replies, not Docker's), in (2 addresses x 2), out (containers, flow)
  CHECK(out.files.at("media.after.rules").find("2001:db8") == std::string::npos);
}

TEST_CASE("ufw docker: the script installs the block between markers after the rules", "[ufw][docker][script]") {
  auto out = emit_repo_policy(kPolicy);
  REQUIRE(out.compilation->ok());
  const auto& sh = out.files.at("media.sh");
  auto rule = sh.find("ufw allow in from '198.18.1.16/28' to '198.18.1.10' port '22,8096' proto 'tcp' comment '");
  REQUIRE(rule != std::string::npos);
  // The block, after the rules and before the final enable.
  auto step = sh.find("after=/etc/ufw/after.rules");
  REQUIRE(step != std::string::npos);
  CHECK(rule < step);
  CHECK(step < sh.find("ufw --force enable"));
  CHECK(sh.find("block='" + out.files.at("media.after.rules") + "'\n") != std::string::npos);
  CHECK(sh.find("ufw reload") != std::string::npos);
  CHECK(sh.find("mv -f \"$new\" \"$after\"") != std::string::npos);
}

TEST_CASE("ufw docker: the script step refuses a block with a quote", "[ufw][docker][hostile]") {
  CHECK_THROWS(ufw::docker_script_step("# it's\n"));
  auto out = emit_repo_policy(kPolicy);
  REQUIRE(out.compilation->ok());
  CHECK_NOTHROW(ufw::docker_script_step(out.files.at("media.after.rules")));
}

TEST_CASE("ufw docker: drift - a route rule left in user.rules by an older netpol is extra", "[ufw][docker][drift]") {
  auto out = emit_repo_policy(kPolicy);
  REQUIRE(out.compilation->ok());
  std::vector<EnforcedRule> media_expected;
  for (const auto& e : ufw_expected(out.compilation->policy))
    if (e.point == "ufw/media") media_expected.push_back(e);
  REQUIRE_FALSE(media_expected.empty());
  const std::string rules = out.files.at("media.rules");
  const std::string& rules6 = out.files.at("media.rules6");
  std::vector<std::string> errors;
  CHECK(compare(media_expected, ufw_deployed_host("media", rules, rules6, errors)).empty());
  CHECK(errors.empty());
  // The route rule of the first Docker support: it matched VPN and other forwarded traffic too.
  const std::string end = "### END RULES ###";
  std::string old = rules;
  old.replace(old.find(end), end.size(),
              "### tuple ### route:allow tcp 22,8096 0.0.0.0/0 any 198.18.1.16/28 in\n"
              "-A ufw-user-forward -p tcp -m multiport --dports 22,8096 -s 198.18.1.16/28 -j ACCEPT\n\n" + end);
  auto drift = compare(media_expected, ufw_deployed_host("media", old, rules6, errors));
  INFO(drift_text(drift));
  CHECK(errors.empty());
  CHECK(drift.missing.empty());
  CHECK_FALSE(drift.extra.empty());
  CHECK(drift_text(drift).find("route") != std::string::npos);
}
