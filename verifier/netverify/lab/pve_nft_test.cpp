// The nftables rendering of the compiled Proxmox files. What the kernel does with it is proved
// by pve_nft_lab_test.sh (real namespaces, real nft, real TCP); here: the shape of the render.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "proxmox/proxmox_test_support.h"
#include "pve_nft.h"
#include "test_support.h"

using namespace netpol::live;
namespace pt = netpol::proxmox::testing;

namespace {

PveNftInput lab_input(const pt::Files& files) {
  PveNftInput in;
  in.cluster_fw = files.at("cluster.fw");
  in.host_fw = files.at("host.fw");
  in.guest_fw[100] = files.at("100.fw");
  in.guest_fw[101] = files.at("101.fw");
  in.ports = {{100, "tap100i0"}, {101, "tap101i0"}};
  in.node_bridges = {"vmbr0", "vmbr1"};
  in.local_network = "198.18.1.0/24";
  return in;
}

pt::Files lab_files() {
  auto c = pt::checked(netpol::testing::compile_repo_file("policy/lab.npol"));
  return pt::emit(*c);
}

// The text of chain `name` in the table `family` (up to its closing brace).
std::string chain(const std::string& script, const std::string& family, const std::string& name) {
  auto table = script.find("table " + family + " netpol_pve {");
  REQUIRE(table != std::string::npos);
  auto at = script.find("\tchain " + name + " {", table);
  REQUIRE(at != std::string::npos);
  return script.substr(at, script.find("\t}\n", at) - at);
}

std::size_t pos(const std::string& text, const std::string& needle) {
  auto at = text.find(needle);
  INFO(needle << " in\n" << text);
  REQUIRE(at != std::string::npos);
  return at;
}

const char* kMiniCluster = R"([OPTIONS]

enable: 1
policy_in: DROP

[IPSET nested]

198.18.0.0/16
!198.18.4.0/22
198.18.5.0/24

[group g1]

IN ACCEPT -source +dc/nested -p tcp -dport 22
IN REJECT -p udp -dport 53
OUT DROP -p tcp -dport 25
)";

const char* kMiniGuest = R"([OPTIONS]

enable: 1
policy_in: REJECT

[RULES]

GROUP g1
IN ACCEPT -i net1 -p tcp -dport 80
)";

PveNftInput mini() {
  PveNftInput in;
  in.cluster_fw = kMiniCluster;
  in.guest_fw[100] = kMiniGuest;
  in.ports = {{100, "tap100i0"}};
  in.node_bridges = {"vmbr0"};
  in.local_network = "198.18.1.0/24";
  return in;
}

}  // namespace

TEST_CASE("the lab's compiled files render every group, guest and host chain", "[pve_nft]") {
  auto r = render_pve_nft(lab_input(lab_files()));
  INFO(r.script);
  for (const auto& e : r.errors) INFO(e);
  REQUIRE(r.ok());
  const auto& s = r.script;

  // A chain per group and direction in inet; the IN chains again in bridge.
  for (const char* g : {"vm-intranet", "vm-extranet"}) {
    chain(s, "inet", std::string("grp-") + g + "-in");
    chain(s, "inet", std::string("grp-") + g + "-out");
    chain(s, "bridge", std::string("grp-") + g + "-in");
  }
  auto intranet_in = chain(s, "inet", "grp-vm-intranet-in");
  CHECK(intranet_in.find("ip saddr @dc-extranet-v4 tcp dport { 2283, 3001, 8096, 9090 } meta mark set meta mark "
                         "| 0x20000 return comment \"cluster.fw:") != std::string::npos);
  CHECK(intranet_in.find("ip6 saddr @dc-extranet-v6 tcp dport { 2283, 3001, 8096, 9090 }") != std::string::npos);

  // lan excludes the intranet slice: a nomatch set, used next to the positive one.
  auto lan_nomatch = pos(s, "\tset dc-lan-v4-nomatch {");
  CHECK(s.find("elements = { 198.18.1.16/28 }", lan_nomatch) != std::string::npos);
  CHECK(s.find("ip saddr @dc-lan-v4 ip saddr != @dc-lan-v4-nomatch tcp dport 22") != std::string::npos);
  CHECK(s.find("set dc-extranet-v4-nomatch") == std::string::npos);  // nothing excluded, no set

  // Host IN: host.fw rules, then the management allowances, then policy_in DROP.
  auto host_in = chain(s, "inet", "host-in");
  auto lan_ui = pos(host_in, "ip saddr @dc-lan-v4 ip saddr != @dc-lan-v4-nomatch ip daddr 198.18.1.2 tcp dport { 22, "
                             "8006 } return comment \"host.fw:");
  auto mgmt_drop = pos(host_in, "tcp dport { 8006, 5900-5999, 3128, 22, 60000-60050 } drop comment \"host.fw:");
  auto allowance = pos(host_in, "ip saddr 198.18.1.0/24 tcp dport { 8006, 5900-5999, 3128, 22, 60000-60050 } return");
  auto policy = pos(host_in, "drop comment \"cluster.fw policy_in DROP\"");
  CHECK(lan_ui < mgmt_drop);
  CHECK(mgmt_drop < allowance);
  CHECK(allowance < policy);

  // Guests: OUT then IN dispatch by port mark; both policies DROP; the group jump and its accept.
  auto forward = chain(s, "inet", "pve-forward");
  CHECK(pos(forward, "ct state established,related") < pos(forward, "== 0x1 jump tap100i0-out"));
  CHECK(pos(forward, "== 0x2 jump tap101i0-out") < pos(forward, "== 0x100 jump tap100i0-in"));
  auto tap_in = chain(s, "inet", "tap100i0-in");
  CHECK(pos(tap_in, "jump grp-vm-intranet-in comment \"100.fw:") < pos(tap_in, "drop comment \"100.fw policy_in DROP\""));
  CHECK(chain(s, "inet", "tap101i0-out").find("drop comment \"101.fw policy_out DROP\"") != std::string::npos);
  CHECK(chain(s, "bridge", "node-out").find("oifname \"tap101i0\" jump tap101i0-in") != std::string::npos);
  CHECK(chain(s, "bridge", "port-in").find("iifname \"tap100i0\" meta mark set") != std::string::npos);
}

TEST_CASE("ipset nomatch follows the most specific entry, like the kernel's hash:net", "[pve_nft]") {
  auto r = render_pve_nft(mini());
  INFO(r.script);
  REQUIRE(r.ok());
  // 198.18.5.0/24 sits inside the excluded /22: it matches again, so it is cut out of nomatch.
  CHECK(r.script.find("elements = { 198.18.4.0/24, 198.18.6.0/23 }") != std::string::npos);
  CHECK(r.script.find("elements = { 198.18.0.0/16, 198.18.5.0/24 }") != std::string::npos);
}

TEST_CASE("REJECT resets or answers in inet and drops in the bridge table; -i netN picks the NIC", "[pve_nft]") {
  auto r = render_pve_nft(mini());
  INFO(r.script);
  REQUIRE(r.ok());
  auto inet_in = chain(r.script, "inet", "tap100i0-in");
  CHECK(inet_in.find("meta l4proto tcp reject with tcp reset comment \"100.fw policy_in REJECT\"") != std::string::npos);
  CHECK(inet_in.find("reject with icmpx type port-unreachable comment \"100.fw policy_in REJECT\"") != std::string::npos);
  CHECK(inet_in.find("tcp dport 80") == std::string::npos);  // the rule is for net1, this is net0
  CHECK(chain(r.script, "inet", "grp-g1-in").find("udp dport 53 reject with icmpx type port-unreachable") !=
        std::string::npos);
  CHECK(chain(r.script, "inet", "grp-g1-out").find("tcp dport 25 drop") != std::string::npos);
  CHECK(chain(r.script, "bridge", "tap100i0-in").find("drop comment \"100.fw policy_in REJECT\"") != std::string::npos);
  CHECK(chain(r.script, "bridge", "grp-g1-in").find("reject") == std::string::npos);

  auto net1 = mini();
  net1.ports = {{100, "tap100i1"}};
  auto r1 = render_pve_nft(net1);
  REQUIRE(r1.ok());
  CHECK(chain(r1.script, "inet", "tap100i1-in").find("tcp dport 80 return") != std::string::npos);
}

TEST_CASE("guests without enable: 1 and a cluster without enable: 1 are not filtered", "[pve_nft]") {
  auto off = mini();
  off.guest_fw[100] = "[OPTIONS]\n\nenable: 0\n";
  auto r = render_pve_nft(off);
  REQUIRE(r.ok());
  CHECK(r.script.find("tap100i0") == std::string::npos);

  auto cluster_off = mini();
  cluster_off.cluster_fw = std::string(kMiniCluster).replace(std::string(kMiniCluster).find("enable: 1"), 9, "enable: 0");
  auto r2 = render_pve_nft(cluster_off);
  REQUIRE(r2.ok());
  CHECK(r2.script.find("jump") == std::string::npos);
  CHECK(r2.script.find("cluster.fw enable is not 1") != std::string::npos);
}

TEST_CASE("what the reader refuses, unknown groups and bad ports give errors and no script", "[pve_nft]") {
  auto bad = mini();
  bad.guest_fw[100] = std::string(kMiniGuest) + "IN ACCEPT -p tcp -dport  22\n";
  auto r = render_pve_nft(bad);
  CHECK_FALSE(r.ok());
  CHECK(r.script.empty());
  REQUIRE(!r.errors.empty());
  CHECK(r.errors.front().rfind("100.fw:", 0) == 0);

  auto nogroup = mini();
  nogroup.guest_fw[100] = "[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nGROUP missing\n";
  auto r2 = render_pve_nft(nogroup);
  REQUIRE(r2.errors.size() == 1);
  CHECK(r2.errors[0] == "100.fw:7: no such security group 'missing' in cluster.fw");

  auto port = mini();
  port.ports = {{100, "tap101i0"}};
  CHECK(render_pve_nft(port).errors == std::vector<std::string>{"guest port 'tap101i0': expected tap100i<N>"});
}

// Not a test: the renderer for pve_nft_lab_test.sh. Reads the .fw files of $NETPOL_PVE_FW_DIR
// (guest <vmid>.fw on port tap<vmid>i0) and writes the script to $NETPOL_PVE_NFT_OUT.
TEST_CASE("render for the lab script", "[.pve-nft-render]") {
  const char* dir = std::getenv("NETPOL_PVE_FW_DIR");
  const char* out = std::getenv("NETPOL_PVE_NFT_OUT");
  REQUIRE(dir);
  REQUIRE(out);
  auto files = pt::read_dir(dir);
  PveNftInput in;
  in.cluster_fw = files["cluster.fw"];
  in.host_fw = files["host.fw"];
  for (const auto& [name, text] : files) {
    if (name == "cluster.fw" || name == "host.fw") continue;
    int vmid = std::stoi(name);
    in.guest_fw[vmid] = text;
    in.ports.push_back({vmid, "tap" + std::to_string(vmid) + "i0"});
  }
  in.node_bridges = {"vmbr0", "vmbr1"};
  in.local_network = "198.18.1.0/24";
  auto r = render_pve_nft(in);
  for (const auto& e : r.errors) WARN(e);
  REQUIRE(r.ok());
  std::ofstream(out) << r.script;
}
