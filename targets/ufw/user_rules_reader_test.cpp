// The reader of deployed user.rules: a file the real ufw wrote (every rule shape) reads
// without a single error, so netpolc's tuple -> body rendering is ufw's; broken files are
// reported, never silently accepted.
#include <catch2/catch.hpp>

#include "ufw_drift.h"
#include "ufw_test_support.h"
#include "user_rules_reader.h"

using namespace netpol;
using namespace netpol::ufw::testing;

namespace {

std::string fixture(const char* name) { return read_text(golden_root() / "fixtures" / name); }

const char* kMinimal =
    "*filter\n"
    ":ufw-user-input - [0:0]\n"
    "### RULES ###\n"
    "\n"
    "### tuple ### allow tcp 22 198.18.1.20 any 198.18.1.0/25 in\n"
    "-A ufw-user-input -p tcp -d 198.18.1.20 --dport 22 -s 198.18.1.0/25 -j ACCEPT\n"
    "\n"
    "### END RULES ###\n"
    "COMMIT\n";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

bool any_error_has(const std::vector<std::string>& errors, const std::string& part) {
  return std::any_of(errors.begin(), errors.end(), [&](const std::string& e) { return e.find(part) != std::string::npos; });
}

}  // namespace

TEST_CASE("reader: a user.rules written by the real ufw reads without errors", "[ufw][reader]") {
  auto v4 = ufw::read_user_rules(fixture("ufw-written.rules"), false, "ufw-written.rules");
  INFO((v4.errors.empty() ? "" : v4.errors.front()));
  CHECK(v4.errors.empty());
  CHECK(v4.rules.size() == 17);
  auto v6 = ufw::read_user_rules(fixture("ufw-written.rules6"), true, "ufw-written.rules6");
  CHECK(v6.errors.empty());
  CHECK(v6.rules.size() == 6);  // the v6 rules and the proto-only rules that ufw writes to both files

  const auto& route = v4.rules[11].rule;  // route allow in on tun0 out on eth1 ... comment 'vpn to web'
  CHECK(route.forward);
  CHECK(route.iface_in == "tun0");
  CHECK(route.iface_out == "eth1");
  CHECK(route.comment == "vpn to web");
  CHECK(v4.rules[0].rule.comment == "flows.npol:63 allow lan -> vm : ssh");
  CHECK(v4.rules[0].line == 20);
}

TEST_CASE("reader: a body that does not match its tuple is an error naming the line", "[ufw][reader]") {
  auto text = replaced(kMinimal, "--dport 22 -s", "--dport 2222 -s");
  auto read = ufw::read_user_rules(text, false, "vm.rules");
  REQUIRE(read.errors.size() == 1);
  CHECK(read.errors[0].rfind("vm.rules:5: the iptables lines do not match the tuple", 0) == 0);
  CHECK(read.errors[0].find("--dport 2222") != std::string::npos);
  CHECK(read.rules.empty());
}

TEST_CASE("reader: broken files are reported", "[ufw][reader]") {
  SECTION("a tuple without its body") {
    auto read = ufw::read_user_rules(replaced(kMinimal, "-A ufw-user-input -p tcp -d 198.18.1.20 --dport 22 -s 198.18.1.0/25 -j ACCEPT\n", ""),
                                     false, "vm.rules");
    CHECK(any_error_has(read.errors, "the file has nothing more"));
  }
  SECTION("a body line without a tuple: the kernel runs what ufw does not know") {
    auto read = ufw::read_user_rules(replaced(kMinimal, "### END RULES ###", "-A ufw-user-input -j ACCEPT\n### END RULES ###"),
                                     false, "vm.rules");
    CHECK(any_error_has(read.errors, "vm.rules:8: an iptables line without a tuple"));
  }
  SECTION("no COMMIT") {
    auto read = ufw::read_user_rules(replaced(kMinimal, "COMMIT\n", ""), false, "vm.rules");
    CHECK(any_error_has(read.errors, "no COMMIT"));
  }
  SECTION("not a rules file") {
    auto read = ufw::read_user_rules("hello\n", false, "vm.rules");
    CHECK(any_error_has(read.errors, "unexpected line before *filter"));
  }
  SECTION("an IPv6 address in user.rules") {
    auto read = ufw::read_user_rules(replaced(kMinimal, "any 198.18.1.0/25 in", "any 2001:db8::/64 in"), false, "vm.rules");
    CHECK(any_error_has(read.errors, "an IPv6 address in user.rules"));
  }
  SECTION("a comment that is not hex") {
    auto read = ufw::read_user_rules(replaced(kMinimal, "198.18.1.0/25 in\n", "198.18.1.0/25 in comment=xyz\n"), false, "vm.rules");
    CHECK(any_error_has(read.errors, "comment is not hex"));
  }
  SECTION("a tuple with a wrong field count or action") {
    auto read = ufw::read_user_rules(replaced(kMinimal, "allow tcp 22", "allow tcp"), false, "vm.rules");
    CHECK(any_error_has(read.errors, "7 or 9 fields"));
    read = ufw::read_user_rules(replaced(kMinimal, "allow tcp 22", "permit tcp 22"), false, "vm.rules");
    CHECK(any_error_has(read.errors, "unknown action 'permit'"));
  }
}

TEST_CASE("deployed: allow rules become flows - what drift cannot compare is an error", "[ufw][reader]") {
  std::vector<std::string> errors;
  auto rules = ufw_deployed_host("vm", fixture("ufw-written.rules"), fixture("ufw-written.rules6"), errors);
  // deny, reject (x2 in v4, +1 route), limit is an allow; sport and gre cannot be compared.
  CHECK(any_error_has(errors, "vm.rules:30: a 'deny' rule"));
  CHECK(any_error_has(errors, "a 'reject' rule"));
  CHECK(any_error_has(errors, "source ports"));
  CHECK(any_error_has(errors, "protocol 'gre'"));
  auto has = [&](const std::string& text) {
    return std::any_of(rules.begin(), rules.end(), [&](const EnforcedRule& r) { return r.str() == text; });
  };
  CHECK(has("ufw/vm in 198.18.1.0/25 -> 198.18.1.20/32 tcp/22"));
  CHECK(has("ufw/vm out 0.0.0.0/0 -> 198.18.10.0/24 tcp/53"));  // proto any with a port: tcp and udp
  CHECK(has("ufw/vm out 0.0.0.0/0 -> 198.18.10.0/24 udp/53"));
  CHECK(has("ufw/vm in 0.0.0.0/0 -> 0.0.0.0/0 tcp/2222"));  // limit still allows
  CHECK(has("ufw/vm route in on tun0 out on eth1 198.18.8.0/24 -> 198.18.3.0/24 tcp/443"));
  CHECK(has("ufw/vm route in on tun0 198.18.8.0/24 -> 198.18.1.16/28 tcp/8000-8099"));
  CHECK(has("ufw/vm in on eth0 0.0.0.0/0 -> 0.0.0.0/0 udp/9000"));
  CHECK(has("ufw/vm out 2001:db8:0:1:ff::20/128 -> 2001:db8:0:10::/64 udp/1-65535"));
}

TEST_CASE("deployed: a directory with a missing user6 copy is an error", "[ufw][reader]") {
  auto dir = std::filesystem::temp_directory_path() / ("netpol-ufw-reader-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  write_text(dir / "vm.rules", kMinimal);
  std::vector<std::string> errors;
  auto rules = ufw_deployed(dir.string(), errors);
  CHECK(rules.size() == 1);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("vm.rules6: missing") != std::string::npos);
  std::filesystem::remove_all(dir);
  errors.clear();
  ufw_deployed(dir.string(), errors);
  CHECK(any_error_has(errors, "not a directory"));
}
