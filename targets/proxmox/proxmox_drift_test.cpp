// Drift: the homelab's golden files, altered the way a hand edit or an attacker
// would, must show up as extra, missing or changed flows at the right place.
#include <algorithm>

#include "proxmox_drift.h"
#include "proxmox_test_support.h"

using namespace netpol;
using namespace netpol::proxmox::testing;

namespace {

const ir::Policy& homelab() {
  static auto c = checked(netpol::testing::compile_repo_file("policy/homelab.npol"));
  return c->policy;
}

Files deployed_homelab() { return read_dir(source_path("tests/golden/proxmox/homelab")); }

struct Result {
  Drift drift;
  std::vector<std::string> errors;
};

Result drift_of(const Files& files) {
  Result r;
  r.drift = compare(proxmox_expected(homelab()), proxmox_deployed_files(files, r.errors));
  return r;
}

bool all_at(const std::vector<EnforcedRule>& rules, const std::string& point, const std::string& direction,
            ir::Proto proto, ir::PortRange ports) {
  return !rules.empty() && std::all_of(rules.begin(), rules.end(), [&](const EnforcedRule& r) {
    return r.point == point && r.direction == direction && r.proto == proto && r.ports == ports;
  });
}

const char* kSshFromLan = "IN ACCEPT -source +dc/lan -p tcp -dport 22 # flows.npol:63";

}  // namespace

TEST_CASE("proxmox drift: the golden files as they are show nothing") {
  auto r = drift_of(deployed_homelab());
  CHECK(r.errors == std::vector<std::string>{});
  INFO(drift_text(r.drift));
  CHECK(r.drift.empty());
}

TEST_CASE("proxmox drift: an extra rule opening 5432 shows as extra, where it is enforced") {
  auto files = deployed_homelab();
  files["cluster.fw"] = replace_line(files["cluster.fw"], "[group vm-intranet]",
                                     "[group vm-intranet]\n\nIN ACCEPT -source +dc/extranet -p tcp -dport 5432");
  auto r = drift_of(files);
  CHECK(r.errors == std::vector<std::string>{});
  INFO(drift_text(r.drift));
  CHECK(r.drift.missing.empty());
  CHECK(r.drift.changed.empty());
  CHECK(all_at(r.drift.extra, "proxmox/100.fw", "in", ir::Proto::tcp, {5432, 5432}));
  CHECK(drift_text(r.drift).find("extra:   proxmox/100.fw in 192.168.10.0/24 -> 192.168.1.20/32 tcp/5432") != std::string::npos);
}

TEST_CASE("proxmox drift: an extra rule in the VM's own file counts too") {
  auto files = deployed_homelab();
  files["100.fw"] = replace_line(files["100.fw"], "GROUP vm-intranet", "IN ACCEPT -p tcp -dport 5432\nGROUP vm-intranet");
  auto r = drift_of(files);
  INFO(drift_text(r.drift));
  CHECK(all_at(r.drift.extra, "proxmox/100.fw", "in", ir::Proto::tcp, {5432, 5432}));
  CHECK(r.drift.missing.empty());
}

TEST_CASE("proxmox drift: a removed rule shows as missing") {
  auto files = deployed_homelab();
  files["cluster.fw"] = replace_line(files["cluster.fw"], kSshFromLan, "");  // the first: vm-extranet's group
  auto r = drift_of(files);
  INFO(drift_text(r.drift));
  CHECK(r.drift.extra.empty());
  CHECK(all_at(r.drift.missing, "proxmox/101.fw", "in", ir::Proto::tcp, {22, 22}));
}

TEST_CASE("proxmox drift: a changed port shows as changed") {
  auto files = deployed_homelab();
  files["host.fw"] = replace_line(files["host.fw"], "-dport 22,8006 #",
                                  "IN ACCEPT -source +dc/lan -dest dc/pve -p tcp -dport 22,8007");
  auto r = drift_of(files);
  INFO(drift_text(r.drift));
  REQUIRE(!r.drift.changed.empty());  // one per network of lan (without intranet)
  for (const auto& [want, have] : r.drift.changed) {
    CHECK(want.point == "proxmox/host.fw");
    CHECK(want.ports == ir::PortRange{8006, 8006});
    CHECK(have.ports == ir::PortRange{8007, 8007});
  }
  CHECK(r.drift.missing.empty());
  CHECK(r.drift.extra.empty());
}

TEST_CASE("proxmox drift: rules apply in order, first match wins") {
  auto files = deployed_homelab();
  SECTION("a DROP above the group takes what the group would accept") {
    files["100.fw"] = replace_line(files["100.fw"], "GROUP vm-intranet", "IN DROP -p tcp -dport 22\nGROUP vm-intranet");
    auto r = drift_of(files);
    INFO(drift_text(r.drift));
    CHECK(all_at(r.drift.missing, "proxmox/100.fw", "in", ir::Proto::tcp, {22, 22}));
    CHECK(r.drift.extra.empty());
  }
  SECTION("a DROP after the accepts changes nothing") {
    files["100.fw"] = replace_line(files["100.fw"], "GROUP vm-intranet", "GROUP vm-intranet\nIN DROP -p tcp -dport 22");
    auto r = drift_of(files);
    CHECK(r.drift.empty());
  }
  SECTION("a disabled rule enforces nothing") {
    files["cluster.fw"] = replace_line(files["cluster.fw"], kSshFromLan, std::string("|") + kSshFromLan);
    auto r = drift_of(files);
    CHECK(all_at(r.drift.missing, "proxmox/101.fw", "in", ir::Proto::tcp, {22, 22}));
  }
  SECTION("policy_in ACCEPT opens the VM to everything") {
    files["101.fw"] = replace_line(files["101.fw"], "policy_in: DROP", "policy_in: ACCEPT");
    auto r = drift_of(files);
    CHECK(r.drift.missing.empty());
    bool udp_everything = std::any_of(r.drift.extra.begin(), r.drift.extra.end(), [](const EnforcedRule& e) {
      return e.point == "proxmox/101.fw" && e.direction == "in" && e.proto == ir::Proto::udp;
    });
    CHECK(udp_everything);
  }
  SECTION("policy_out left at its default (ACCEPT) opens the VM's outbound") {
    files["100.fw"] = replace_line(files["100.fw"], "policy_out: DROP", "");
    auto r = drift_of(files);
    CHECK(!r.drift.extra.empty());
    CHECK(std::all_of(r.drift.extra.begin(), r.drift.extra.end(), [](const EnforcedRule& e) { return e.direction == "out"; }));
  }
}

TEST_CASE("proxmox drift: the objects rules name are read too") {
  auto files = deployed_homelab();
  SECTION("an ipset without its nomatch entry is wider") {
    files["cluster.fw"] = replace_line(files["cluster.fw"], "!192.168.1.16/28", "");
    auto r = drift_of(files);
    INFO(drift_text(r.drift));
    CHECK(r.drift.missing.empty());
    // lan now holds intranet too: intranet gains what only lan had (http to the proxy, ssh, ...)
    CHECK(drift_text(r.drift).find("extra:   proxmox/101.fw in 192.168.1.0/24 -> 192.168.10.10/32 tcp/80") != std::string::npos);
  }
  SECTION("a moved alias moves every rule that names it") {
    files["cluster.fw"] = replace_line(files["cluster.fw"], "vm-intranet-v4 192.168.1.20", "vm-intranet-v4 192.168.1.21");
    auto r = drift_of(files);
    INFO(drift_text(r.drift));
    CHECK(!r.drift.missing.empty());
    CHECK(!r.drift.extra.empty());
  }
}

TEST_CASE("proxmox drift: what cannot be read is reported, never ignored") {
  auto files = deployed_homelab();
  SECTION("a file the reader refuses") {
    files["cluster.fw"] = replace_line(files["cluster.fw"], kSshFromLan, "IN ACCEPT -source 192.168.1.1/24 -p tcp -dport 22");
    auto r = drift_of(files);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].rfind("proxmox/cluster.fw:", 0) == 0);
  }
  SECTION("the firewall switched off") {
    files["cluster.fw"] = replace_line(files["cluster.fw"], "enable: 1", "enable: 0");
    auto r = drift_of(files);
    CHECK(r.errors == std::vector<std::string>{"proxmox/cluster.fw: the firewall is off (no 'enable: 1'): nothing is enforced"});
  }
  SECTION("cluster.fw missing") {
    files.erase("cluster.fw");
    auto r = drift_of(files);
    CHECK(r.errors == std::vector<std::string>{"proxmox/cluster.fw: missing"});
    CHECK(!r.drift.missing.empty());
  }
  SECTION("an interface match is read as wider, and said") {
    files["100.fw"] = replace_line(files["100.fw"], "GROUP vm-intranet", "IN ACCEPT -i net0 -p tcp -dport 5432\nGROUP vm-intranet");
    auto r = drift_of(files);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].find("-i is not modelled") != std::string::npos);
    CHECK(all_at(r.drift.extra, "proxmox/100.fw", "in", ir::Proto::tcp, {5432, 5432}));
  }
}
