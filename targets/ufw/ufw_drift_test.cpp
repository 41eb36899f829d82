// Drift for the UFW target: the lab policy's emitted files, edited as an admin might,
// read back and compared as flows (extra, missing, changed), not as lines.
#include <catch2/catch.hpp>

#include "ufw_drift.h"
#include "ufw_test_support.h"

using namespace netpol;
using namespace netpol::ufw::testing;

namespace {

struct Lab {
  UfwOutput out = emit_repo_policy("policy/lab.npol");
  std::vector<EnforcedRule> expected = ufw_expected(out.compilation->policy);

  Drift drift_with(const std::string& host, const std::string& rules, std::vector<std::string>& errors) {
    std::vector<EnforcedRule> deployed;
    for (const char* h : {"vm-intranet", "vm-extranet"}) {
      std::string name = h;
      auto r = name == host ? rules : out.files.at(name + ".rules");
      auto found = ufw_deployed_host(name, r, out.files.at(name + ".rules6"), errors);
      deployed.insert(deployed.end(), found.begin(), found.end());
    }
    return compare(expected, deployed);
  }
};

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// Removes the tuple that starts with `tuple` and its body (up to the next blank line).
std::string without_rule(const std::string& text, const std::string& tuple) {
  auto at = text.find("\n### tuple ### " + tuple);
  REQUIRE(at != std::string::npos);
  auto end = text.find("\n\n", at + 1);
  return text.substr(0, at) + text.substr(end);
}

}  // namespace

TEST_CASE("drift: the emitted files read back as exactly the expected flows", "[ufw][drift]") {
  Lab lab;
  std::vector<std::string> errors;
  auto drift = lab.drift_with("", "", errors);
  CHECK(errors.empty());
  INFO(drift_text(drift));
  CHECK(drift.empty());
}

TEST_CASE("drift: an extra rule opening 5432 is extra", "[ufw][drift]") {
  Lab lab;
  auto rules = replaced(lab.out.files.at("vm-intranet.rules"), "\n### END RULES ###",
                        "\n### tuple ### allow tcp 5432 198.18.1.20 any 198.18.10.0/24 in\n"
                        "-A ufw-user-input -p tcp -d 198.18.1.20 --dport 5432 -s 198.18.10.0/24 -j ACCEPT\n"
                        "\n### END RULES ###");
  std::vector<std::string> errors;
  auto drift = lab.drift_with("vm-intranet", rules, errors);
  CHECK(errors.empty());
  CHECK(drift.missing.empty());
  CHECK(drift.changed.empty());
  REQUIRE(drift.extra.size() == 1);
  CHECK(drift.extra[0].str() == "ufw/vm-intranet in 198.18.10.0/24 -> 198.18.1.20/32 tcp/5432");
  CHECK(drift.extra[0].origin.rfind("vm-intranet.rules:", 0) == 0);
}

TEST_CASE("drift: a removed rule is missing - named by its policy rule", "[ufw][drift]") {
  Lab lab;
  auto rules = without_rule(lab.out.files.at("vm-intranet.rules"), "allow tcp 22 198.18.1.20 any 198.18.1.64/26 in");
  std::vector<std::string> errors;
  auto drift = lab.drift_with("vm-intranet", rules, errors);
  CHECK(errors.empty());
  CHECK(drift.extra.empty());
  REQUIRE(drift.missing.size() == 1);
  CHECK(drift.missing[0].str() == "ufw/vm-intranet in 198.18.1.64/26 -> 198.18.1.20/32 tcp/22");
  CHECK(drift.missing[0].origin == "flows.npol:63 allow lan -> vm-intranet, vm-extranet : ssh");
}

TEST_CASE("drift: a changed port is changed", "[ufw][drift]") {
  Lab lab;
  auto rules = lab.out.files.at("vm-extranet.rules");
  rules = replaced(rules, "allow tcp 9100 198.18.10.10 any 198.18.1.20 in", "allow tcp 9200 198.18.10.10 any 198.18.1.20 in");
  rules = replaced(rules, "-d 198.18.10.10 --dport 9100 -s 198.18.1.20", "-d 198.18.10.10 --dport 9200 -s 198.18.1.20");
  std::vector<std::string> errors;
  auto drift = lab.drift_with("vm-extranet", rules, errors);
  CHECK(errors.empty());
  CHECK(drift.missing.empty());
  CHECK(drift.extra.empty());
  REQUIRE(drift.changed.size() == 1);
  CHECK(drift.changed[0].first.str() == "ufw/vm-extranet in 198.18.1.20/32 -> 198.18.10.10/32 tcp/9100");
  CHECK(drift.changed[0].second.ports.first == 9200);
}

TEST_CASE("drift: a body edited without its tuple is an error and the rule counts as missing", "[ufw][drift]") {
  Lab lab;
  auto rules = replaced(lab.out.files.at("vm-extranet.rules"), "-d 198.18.10.10 --dport 9100 -s 198.18.1.20",
                        "-d 198.18.10.10 --dport 9200 -s 198.18.1.20");
  std::vector<std::string> errors;
  auto drift = lab.drift_with("vm-extranet", rules, errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("vm-extranet.rules:") == 0);
  CHECK(errors[0].find("do not match the tuple") != std::string::npos);
  REQUIRE(drift.missing.size() == 1);
  CHECK(drift.missing[0].ports.first == 9100);
}

TEST_CASE("drift: the tunnel interface is part of the rule", "[ufw][drift]") {
  Lab lab;
  // The VPN pool's rule without `on tun0` would accept the pool's addresses on any interface.
  auto rules = replaced(lab.out.files.at("vm-extranet.rules"), "any 198.18.8.0/24 in_tun0", "any 198.18.8.0/24 in");
  rules = replaced(rules, "-A ufw-user-input -i tun0 -p tcp -d 198.18.10.10 --dport 443 -s 198.18.8.0/24",
                   "-A ufw-user-input -p tcp -d 198.18.10.10 --dport 443 -s 198.18.8.0/24");
  std::vector<std::string> errors;
  auto drift = lab.drift_with("vm-extranet", rules, errors);
  CHECK(errors.empty());
  REQUIRE(drift.missing.size() == 1);
  CHECK(drift.missing[0].str() == "ufw/vm-extranet in on tun0 198.18.8.0/24 -> 198.18.10.10/32 tcp/443");
  REQUIRE(drift.extra.size() == 1);
  CHECK(drift.extra[0].str() == "ufw/vm-extranet in 198.18.8.0/24 -> 198.18.10.10/32 tcp/443");
}

TEST_CASE("drift: rules split or merged differently still compare equal", "[ufw][drift]") {
  Lab lab;
  // One rule for ports 80 and 443 written as two rules: the same packets.
  auto rules = replaced(lab.out.files.at("vm-extranet.rules"),
                        "### tuple ### allow tcp 80,443 198.18.10.10 any 198.18.1.0/28 in",
                        "### tuple ### allow tcp 80 198.18.10.10 any 198.18.1.0/28 in\n"
                        "-A ufw-user-input -p tcp -d 198.18.10.10 --dport 80 -s 198.18.1.0/28 -j ACCEPT\n\n"
                        "### tuple ### allow tcp 443 198.18.10.10 any 198.18.1.0/28 in");
  rules = replaced(rules, "-A ufw-user-input -p tcp -m multiport --dports 80,443 -d 198.18.10.10 -s 198.18.1.0/28",
                   "-A ufw-user-input -p tcp -d 198.18.10.10 --dport 443 -s 198.18.1.0/28");
  std::vector<std::string> errors;
  auto drift = lab.drift_with("vm-extranet", rules, errors);
  CHECK(errors.empty());
  INFO(drift_text(drift));
  CHECK(drift.empty());
}

TEST_CASE("expected: computed from the flows - ICMP is left to before.rules", "[ufw][drift]") {
  Lab lab;
  auto has = [&](const std::string& text) {
    return std::any_of(lab.expected.begin(), lab.expected.end(), [&](const EnforcedRule& r) { return r.str() == text; });
  };
  CHECK(has("ufw/vm-intranet in 198.18.10.0/24 -> 198.18.1.20/32 tcp/8096"));
  CHECK(has("ufw/vm-extranet out 198.18.10.10/32 -> 198.18.1.16/28 tcp/8096"));
  CHECK(has("ufw/vm-extranet in on tun0 198.18.8.0/24 -> 198.18.10.10/32 tcp/443"));
  CHECK(has("ufw/vm-intranet out 2001:db8:0:1:ff::20/128 -> 2001:db8:0:10::/64 udp/53"));
  CHECK_FALSE(has("ufw/vm-intranet in 198.18.1.16/28 -> 198.18.1.20/32 tcp/22"));  // ssh is from lan, not intranet
  for (const auto& r : lab.expected) {
    CHECK(r.proto != ir::Proto::icmp);
    CHECK(r.source.family == r.destination.family);
  }
}
