// Goldens of the UFW target (tests/golden/ufw/<case>/), each read back by the drift
// reader, and the target's promises: exact networks, families apart, port lists of at
// most 15 numbers, the VPN server's tunnel rules, diagnostics, hostile text made harmless.
#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include "comment.h"
#include "drift.h"
#include "ufw_codes.h"
#include "ufw_drift.h"
#include "ufw_plan.h"
#include "ufw_test_support.h"
#include "user_rules_reader.h"

using namespace netpol;
using namespace netpol::ufw::testing;
namespace fs = std::filesystem;

namespace {

struct GoldenCase {
  const char* name;
  const char* policy;  // relative to the repository
};

const GoldenCase kCases[] = {
    {"homelab", "policy/homelab.npol"},
    {"lab", "policy/lab.npol"},
    {"dual-stack", "tests/golden/ufw/policies/dual-stack.npol"},
    {"nested", "tests/golden/ufw/policies/nested.npol"},
    {"many-ports", "tests/golden/ufw/policies/many-ports.npol"},
    {"vpn", "tests/golden/ufw/policies/vpn.npol"},
};

std::map<std::string, std::string> golden_files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().filename().string()] = read_text(e.path());
  return out;
}

void write_golden(const fs::path& dir, const std::map<std::string, std::string>& files) {
  fs::remove_all(dir);
  for (const auto& [name, text] : files) write_text(dir / name, text);
}

// Tuples of one emitted file, as the reader sees them (no errors allowed).
std::vector<ufw::ReadRule> tuples(const std::string& text, bool v6) {
  auto read = ufw::read_user_rules(text, v6, "emitted");
  INFO(read.errors.size() << " reader errors, first: " << (read.errors.empty() ? "" : read.errors[0]));
  REQUIRE(read.errors.empty());
  return read.rules;
}

int port_numbers(const std::string& list) {
  int n = 0;
  std::istringstream in(list);
  for (std::string item; std::getline(in, item, ',');) n += item.find(':') == std::string::npos ? 1 : 2;
  return n;
}

bool has_tuple(const std::string& text, const std::string& tuple_without_comment) {
  return text.find("### tuple ### " + tuple_without_comment + " comment=") != std::string::npos ||
         text.find("### tuple ### " + tuple_without_comment + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("ufw goldens: every case equals tests/golden/ufw/<case>/ and reads back without drift", "[ufw][golden]") {
  for (const auto& gc : kCases) {
    SECTION(gc.name) {
      auto out = emit_repo_policy(gc.policy);
      INFO(out.diagnostics);
      REQUIRE(out.compilation->ok());
      REQUIRE_FALSE(out.files.empty());
      auto expected_files = out.files;
      expected_files["diagnostics.txt"] = out.diagnostics;
      fs::path dir = golden_root() / gc.name;
      if (updating_goldens()) write_golden(dir, expected_files);
      auto golden = golden_files(dir);
      std::set<std::string> names_emitted, names_golden;
      for (auto& [n, _] : expected_files) names_emitted.insert(n);
      for (auto& [n, _] : golden) names_golden.insert(n);
      CHECK(names_emitted == names_golden);
      for (const auto& [name, text] : expected_files) {
        INFO("golden " << (dir / name).string() << " differs: regenerate with NETPOL_UPDATE_GOLDEN=1 and review the diff");
        CHECK(golden[name] == text);
      }
      // Read back from the golden directory: the drift reader finds nothing missing or extra.
      std::vector<std::string> errors;
      auto deployed = ufw_deployed(dir.string(), errors);
      CHECK(errors.empty());
      auto drift = compare(ufw_expected(out.compilation->policy), deployed);
      INFO(drift_text(drift));
      CHECK(drift.empty());
      CHECK_FALSE(deployed.empty());
    }
  }
}

TEST_CASE("ufw: every VM gets .rules and .rules6 and .sh, a Docker host .after.rules, and nothing else", "[ufw]") {
  auto out = emit_repo_policy("policy/lab.npol");
  std::set<std::string> names;
  for (auto& [n, _] : out.files) names.insert(n);
  CHECK(names == std::set<std::string>{"vm-extranet.after.rules", "vm-extranet.rules", "vm-extranet.rules6",
                                       "vm-extranet.sh", "vm-intranet.after.rules", "vm-intranet.rules",
                                       "vm-intranet.rules6", "vm-intranet.sh"});
  for (auto& [name, text] : out.files) {
    INFO(name);
    CHECK(text.back() == '\n');
    CHECK(text.find('\r') == std::string::npos);
  }
}

TEST_CASE("ufw: inbound from each source network to the VM's own address - never wider", "[ufw]") {
  auto out = emit_repo_policy("policy/lab.npol");
  const auto& rules = out.files.at("vm-intranet.rules");
  // `lan` without its nested zone `intranet` (198.18.1.16/28): four networks, the /28 is not one.
  for (const char* net : {"198.18.1.0/28", "198.18.1.32/27", "198.18.1.64/26", "198.18.1.128/25"})
    CHECK(has_tuple(rules, std::string("allow tcp 22 198.18.1.20 any ") + net + " in"));
  CHECK_FALSE(has_tuple(rules, "allow tcp 22 198.18.1.20 any 198.18.1.16/28 in"));
  CHECK_FALSE(has_tuple(rules, "allow tcp 22 198.18.1.20 any 198.18.1.0/24 in"));
  // Outbound to the catch-all: /1 halves minus every other zone, never 0.0.0.0/0.
  CHECK(has_tuple(rules, "allow tcp 1:65535 0.0.0.0/1 any 198.18.1.20 out"));
  // Not even a Docker host's after.rules block: no rule names everything.
  for (const auto& [name, text] : out.files) {
    INFO(name);
    CHECK(text.find(" 0.0.0.0/0 ") == std::string::npos);
    CHECK(text.find(" ::/0 ") == std::string::npos);
  }
  // No rule's source may overlap a zone the flow does not name (e.g. the vpn pool or the LAN).
  for (const auto& r : tuples(rules, false)) {
    if (r.rule.direction != "out" || r.rule.dport != "1:65535") continue;
    auto dst = *parse_cidr(r.rule.dst).cidr;
    for (const char* other : {"198.18.1.0/24", "198.18.10.0/24", "198.18.8.0/24"}) {
      INFO(r.rule.dst << " overlaps " << other);
      CHECK_FALSE(dst.overlaps(*parse_cidr(other).cidr));
    }
  }
}

TEST_CASE("ufw: families stay apart - a VM without IPv6 gets an empty user6.rules", "[ufw]") {
  auto out = emit_repo_policy("tests/golden/ufw/policies/dual-stack.npol");
  REQUIRE(out.compilation->ok());
  CHECK(tuples(out.files.at("legacy.rules6"), true).empty());
  CHECK(tuples(out.files.at("legacy.rules"), false).size() == 1);
  CHECK(out.files.at("legacy.sh").find("IPV6=yes") == std::string::npos);  // nothing to check without v6 rules
  CHECK(out.files.at("web.sh").find("IPV6=yes") != std::string::npos);
  for (const auto& [name, text] : out.files) {
    if (name.ends_with(".sh")) continue;
    bool v6 = name.ends_with(".rules6");
    for (const auto& r : tuples(text, v6)) {
      INFO(name << ": " << r.rule.src << " -> " << r.rule.dst);
      CHECK((parse_cidr(r.rule.src).cidr->family == Family::v6) == v6);
      CHECK((parse_cidr(r.rule.dst).cidr->family == Family::v6) == v6);
    }
  }
  CHECK(has_tuple(out.files.at("web.rules6"), "allow tcp 443 2001:db8:2::10 any 2001:db8:1::/64 in"));
  CHECK(has_tuple(out.files.at("web.rules6"), "allow udp 514 2001:db8:1::/64 any 2001:db8:2::10 out"));
}

TEST_CASE("ufw: an excepted host is carved out of its zone", "[ufw]") {
  auto out = emit_repo_policy("tests/golden/ufw/policies/nested.npol");
  REQUIRE(out.compilation->ok());
  auto ssh_sources = std::vector<Cidr>{};
  for (const auto& r : tuples(out.files.at("nas.rules"), false))
    if (r.rule.dport == "22" || r.rule.dport.rfind("22,", 0) == 0) ssh_sources.push_back(*parse_cidr(r.rule.src).cidr);
  REQUIRE_FALSE(ssh_sources.empty());
  auto laptop = *parse_cidr("198.18.1.5").cidr, printer = *parse_cidr("198.18.1.6").cidr;
  auto servers = *parse_cidr("198.18.1.16/28").cidr, elsewhere = *parse_cidr("198.18.1.200").cidr;
  auto covered = [&](const Cidr& a) {
    return std::any_of(ssh_sources.begin(), ssh_sources.end(), [&](const Cidr& s) { return s.contains(a); });
  };
  CHECK_FALSE(covered(laptop));
  CHECK(covered(printer));
  CHECK(covered(elsewhere));
  CHECK(std::none_of(ssh_sources.begin(), ssh_sources.end(), [&](const Cidr& s) { return s.overlaps(servers); }));
}

TEST_CASE("ufw: port lists hold at most 15 numbers and are split and merged and sorted", "[ufw]") {
  auto out = emit_repo_policy("tests/golden/ufw/policies/many-ports.npol");
  REQUIRE(out.compilation->ok());
  auto rules = tuples(out.files.at("media.rules"), false);
  int tcp_rules = 0;
  for (const auto& r : rules) {
    INFO(r.rule.dport);
    CHECK(port_numbers(r.rule.dport) <= ufw::kMaxPortNumbers);
    tcp_rules += r.rule.proto == "tcp";
  }
  CHECK(tcp_rules == 2);  // 1001:1003 + 18 odd ports + 2 ranges = 24 numbers -> two rules
  CHECK(rules.front().rule.dport.rfind("1001:1003,1005,", 0) == 0);
  CHECK(ufw::port_lists({{80, 80}, {22, 22}, {81, 81}}) == std::vector<std::string>{"22,80:81"});
  CHECK(ufw::port_lists({{1, 65535}}) == std::vector<std::string>{"1:65535"});
  std::vector<ir::PortRange> sixteen;
  for (std::uint16_t p = 100; p < 132; p += 2) sixteen.push_back({p, p});
  CHECK(ufw::port_lists(sixteen).size() == 2);
  CHECK(port_numbers(ufw::port_lists(sixteen)[0]) == 15);
}

TEST_CASE("ufw: the VPN server gets tunnel rules - ICMP outside ufw's baseline is a warning", "[ufw][vpn]") {
  auto out = emit_repo_policy("tests/golden/ufw/policies/vpn.npol");
  REQUIRE(out.compilation->ok());
  const auto& gw = out.files.at("gw.rules");
  // From the pool to the server itself: an ordinary rule, bound to the tunnel.
  CHECK(has_tuple(gw, "allow tcp 22 198.18.10.10 any 198.18.8.50 in_tun0"));
  CHECK(has_tuple(gw, "allow tcp 443 198.18.10.10 any 198.18.8.0/24 in_tun0"));
  // From the pool on to other hosts: forwarded, in on tun0.
  CHECK(has_tuple(gw, "route:allow tcp 8096 198.18.1.20 any 198.18.8.0/24 in_tun0"));
  CHECK(has_tuple(gw, "route:allow tcp 443 198.18.10.0/24 any 198.18.8.0/24 in_tun0"));
  // From the LAN to the pool: forwarded, out on tun0.
  CHECK(has_tuple(gw, "route:allow tcp 22 198.18.8.0/24 any 198.18.1.0/28 out_tun0"));
  CHECK(gw.find("route:allow tcp 22 198.18.10.10") == std::string::npos);  // the server's own rule is not routed
  // The backend VM sees the pool as an ordinary source (no tunnel there).
  CHECK(has_tuple(out.files.at("media.rules"), "allow tcp 8096 198.18.1.20 any 198.18.8.0/24 in"));
  CHECK(out.files.at("media.rules").find("tun0") == std::string::npos);
  CHECK(out.files.at("gw.sh").find("ufw route allow in on 'tun0' from '198.18.8.0/24' to '198.18.1.20' port '8096'") !=
        std::string::npos);
  // echo-request is accepted by before.rules (no warning); an incoming echo-reply is not.
  auto codes = netpol::testing::codes(*out.compilation);
  CHECK(std::count(codes.begin(), codes.end(), "W710@36:1") == 1);
  CHECK(out.diagnostics.find("cannot allow incoming icmp/echo-reply") != std::string::npos);
  CHECK(out.diagnostics.find("echo-request (vpn") == std::string::npos);
}

TEST_CASE("ufw: the homelab compiles without a ufw warning", "[ufw]") {
  auto out = emit_repo_policy("policy/homelab.npol");
  REQUIRE(out.compilation->ok());
  INFO(out.diagnostics);
  CHECK(out.diagnostics.find("[W710]") == std::string::npos);
}

TEST_CASE("ufw: outbound ICMP is a warning naming the rule - not an error", "[ufw]") {
  auto out = emit_text(R"(
zone lan { bridge vmbr0 }
zone internet
address lan 198.18.1.0/24
address internet 0.0.0.0/0
host vm in lan { vmid 100 }
address vm 198.18.1.20
allow vm -> internet : any
)");
  REQUIRE(out.compilation->ok());
  CHECK_FALSE(out.compilation->diags.has_errors());
  CHECK(out.compilation->diags.warning_count() == 1);
  CHECK(out.diagnostics.find("main.npol:8:1: warning[W710]: ufw target: the ufw of VM 'vm' cannot allow "
                             "outgoing icmp (vm -> internet)") != std::string::npos);
  // ICMP never reaches a file: ufw has no ICMP rules.
  for (const auto& [name, text] : out.files) CHECK(text.find("icmp") == std::string::npos);
}

TEST_CASE("ufw: the script quotes every value and sets defaults first and enables last", "[ufw][script]") {
  auto out = emit_repo_policy("policy/lab.npol");
  const auto& sh = out.files.at("vm-extranet.sh");
  CHECK(sh.rfind("#!/bin/sh\n# generated by netpolc ", 0) == 0);
  CHECK(sh.find("set -eu\n") != std::string::npos);
  CHECK(sh.find("ufw --force reset") == std::string::npos);  // a reset would open the firewall
  auto first_default = sh.find("ufw default deny incoming");
  auto first_rule = sh.find("\nufw allow ");
  auto enable = sh.find("ufw --force enable");
  CHECK(first_default < first_rule);
  CHECK(first_rule < enable);
  CHECK(sh.find("ufw default deny outgoing") < first_rule);
  CHECK(sh.find("ufw default deny routed") < first_rule);
  // Every rule line: fixed words bare, every value between single quotes.
  static const std::regex rule_line(
      "ufw (route )?allow (in|out)( on 'tun0')? from '[0-9a-f.:/]+' to '[0-9a-f.:/]+' port '[0-9,:]+' "
      "proto '(tcp|udp)' comment '[ -&(-~]+'");
  std::istringstream in(sh);
  int rule_lines = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("ufw allow", 0) != 0 && line.rfind("ufw route allow", 0) != 0) continue;
    INFO(line);
    CHECK(std::regex_match(line, rule_line));
    ++rule_lines;
  }
  CHECK(rule_lines == static_cast<int>(tuples(out.files.at("vm-extranet.rules"), false).size() +
                                       tuples(out.files.at("vm-extranet.rules6"), true).size()));
}

// Hostile text can only reach the target through an IR built by hand: the compiler
// refuses such names (E101) and drops comments. The target must still be harmless.
TEST_CASE("ufw: hostile rule text and names are made harmless or refused", "[ufw][hostile]") {
  auto c = netpol::testing::compile_repo_file("policy/lab.npol");
  REQUIRE(c->ok());
  auto& p = c->policy;
  std::string hostile = "x'; rm -rf / #`id` $(reboot) \"q\" \\ \n-A ufw-user-input -j ACCEPT\n" + std::string(200, 'a');
  for (auto& r : p.rules) r.text = hostile;

  SECTION("rule text: comments stay on one line, quote-free and at most 120 characters") {
    OutputSet out;
    Diagnostics diags;
    emit_ufw(p, out, diags);
    CHECK_FALSE(diags.has_errors());
    for (const auto& [name, text] : out) {
      INFO(name);
      CHECK(text.find("\n-A ufw-user-input -j ACCEPT\n") == std::string::npos);
      std::istringstream in(text);
      for (std::string line; std::getline(in, line);) {
        if (line.find("rm -rf") == std::string::npos) continue;
        // Only inside a single-quoted ufw comment, with nothing that could end the quote, or as a
        // `# ` line of a Docker host's after.rules block (single-quoted as a whole in the .sh).
        INFO(line);
        if (line.rfind("# flows.npol:", 0) == 0) {
          CHECK(line.find_first_of("'`$\\\"") == std::string::npos);
          continue;
        }
        REQUIRE(line.rfind("ufw ", 0) == 0);
        auto comment = line.substr(line.find(" comment '") + 10);
        CHECK(comment.find('\'') == comment.size() - 1);
        CHECK(comment.find_first_of("`$\\\"#") == std::string::npos);
      }
      if ((name.ends_with(".rules") && !name.ends_with(".after.rules")) || name.ends_with(".rules6")) {
        for (const auto& r : tuples(text, name.ends_with(".rules6"))) {
          CHECK(r.rule.comment.size() <= kMaxCommentLength);
          CHECK(r.rule.comment.find_first_of("'\"`$#\\\n") == std::string::npos);
        }
      }
    }
  }
  SECTION("a VM name that is no shell word or file name: E710, and no files for it") {
    auto vm = p.find_host("vm-intranet");
    REQUIRE(vm);
    p.hosts[static_cast<std::size_t>(*vm)].name = "vm'; reboot; '";
    OutputSet out;
    Diagnostics diags;
    emit_ufw(p, out, diags);
    REQUIRE(diags.error_count() == 1);
    CHECK(diags.all()[0].code == ufw::code::kBadHostName);
    for (const auto& [name, _] : out) CHECK(name.find("reboot") == std::string::npos);
    CHECK(out.count("ufw/vm-extranet.sh") == 1);
  }
  SECTION("a name of 200 characters: E710") {
    p.hosts[static_cast<std::size_t>(*p.find_host("vm-extranet"))].name = std::string(200, 'v');
    OutputSet out;
    Diagnostics diags;
    emit_ufw(p, out, diags);
    CHECK(diags.error_count() == 1);
  }
}

TEST_CASE("ufw: a VM serving two VPNs is an error (one tunnel interface)", "[ufw][vpn]") {
  auto c = netpol::testing::compile_repo_file("tests/golden/ufw/policies/vpn.npol");
  REQUIRE(c->ok());
  auto second = c->policy.vpns.at(0);
  second.name = "second";
  c->policy.vpns.push_back(second);
  OutputSet out;
  Diagnostics diags;
  emit_ufw(c->policy, out, diags);
  REQUIRE(diags.error_count() == 1);
  CHECK(diags.all()[0].code == ufw::code::kTwoVpns);
  CHECK(diags.all()[0].message.find("'remote' and 'second'") != std::string::npos);
}

TEST_CASE("ufw: a port ufw would refuse is an error (E712) and never written", "[ufw][hostile]") {
  auto c = netpol::testing::compile_repo_file("policy/lab.npol");
  REQUIRE(c->ok());
  for (auto& f : c->policy.flows)
    if (f.proto == ir::Proto::tcp && f.ports.first == 9100) f.ports = {0, 0};
  OutputSet out;
  Diagnostics diags;
  emit_ufw(c->policy, out, diags);
  REQUIRE(diags.error_count() == 1);
  CHECK(diags.all()[0].code == ufw::code::kBadValue);
  for (const auto& [name, text] : out) {
    CHECK(text.find("allow tcp 0 ") == std::string::npos);
    CHECK(text.find("port '0'") == std::string::npos);
  }
  CHECK(out.at("ufw/vm-intranet.rules").find("allow tcp 22 ") != std::string::npos);  // the rest is still written
}
