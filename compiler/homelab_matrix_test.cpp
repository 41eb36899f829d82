// The homelab's resolved matrix holds exactly the seed's flow matrix.
#include <catch2/catch.hpp>
#include <set>

#include "matrix.h"
#include "matrix_text.h"
#include "test_support.h"

using namespace netpol;

namespace {

struct Homelab {
  std::unique_ptr<Compilation> c = testing::compile_repo_file("policy/homelab.npol");
  Matrix matrix{c->policy};

  ir::Endpoint zone(const std::string& name) const { return {ir::Endpoint::Kind::zone, *c->policy.find_zone(name)}; }
  ir::Endpoint host(const std::string& name) const { return {ir::Endpoint::Kind::host, *c->policy.find_host(name)}; }
  bool allows(const ir::Endpoint& s, const ir::Endpoint& d, ir::Proto proto, int port) const {
    return matrix.decide(s, d, proto, static_cast<std::uint16_t>(port)).allowed;
  }
};

const ir::Proto tcp = ir::Proto::tcp;
const ir::Proto udp = ir::Proto::udp;

}  // namespace

TEST_CASE("The homelab policy checks clean", "[homelab]") {
  Homelab h;
  INFO(testing::rendered(*h.c));
  REQUIRE(h.c->ok());
  CHECK(h.c->diags.all().empty());
}

TEST_CASE("Each row of the seed's matrix is allowed", "[homelab]") {
  Homelab h;
  REQUIRE(h.c->ok());
  auto lan = h.zone("lan"), internet = h.zone("internet"), vpn = h.zone("vpn");
  auto vmi = h.host("vm-intranet"), vme = h.host("vm-extranet"), pve = h.host("pve");
  // LAN clients -> EXTRANET: 443/tcp, 80/tcp, 1194/udp
  CHECK(h.allows(lan, vme, tcp, 443));
  CHECK(h.allows(lan, vme, tcp, 80));
  CHECK(h.allows(lan, vme, udp, 1194));
  // EXTRANET -> INTRANET: Jellyfin, Immich, Prometheus, Grafana (through the proxy only)
  for (int port : {8096, 2283, 3001, 9090, 3000}) CHECK(h.allows(vme, vmi, tcp, port));
  CHECK(h.allows(h.zone("extranet"), vmi, tcp, 8096));
  CHECK_FALSE(h.allows(h.zone("extranet"), vmi, tcp, 3000));  // Grafana: from the proxy host only
  // INTRANET -> EXTRANET: ACME, DNS, SMTP
  CHECK(h.allows(vmi, vme, tcp, 443));
  CHECK(h.allows(vmi, vme, udp, 53));
  CHECK(h.allows(vmi, vme, tcp, 53));
  CHECK(h.allows(vmi, vme, tcp, 25));
  CHECK(h.allows(vmi, vme, tcp, 587));
  // Prometheus scrapes node_exporter on the EXTRANET VM
  CHECK(h.allows(vmi, vme, tcp, 9100));
  // INTRANET -> Internet: outbound only
  CHECK(h.allows(vmi, internet, tcp, 443));
  CHECK(h.allows(vmi, internet, udp, 123));
  for (int port : {22, 80, 443, 8096, 2283, 5432}) CHECK_FALSE(h.allows(internet, vmi, tcp, port));
  // SSH to the VMs and the node, and the node's UI, from the LAN only
  CHECK(h.allows(lan, vmi, tcp, 22));
  CHECK(h.allows(lan, vme, tcp, 22));
  CHECK(h.allows(lan, pve, tcp, 22));
  CHECK(h.allows(lan, pve, tcp, 8006));
  for (auto from : {h.zone("extranet"), h.zone("intranet"), vpn, internet}) {
    CHECK_FALSE(h.allows(from, vmi, tcp, 22));
    CHECK_FALSE(h.allows(from, vme, tcp, 22));
    CHECK_FALSE(h.allows(from, pve, tcp, 22));
    CHECK_FALSE(h.allows(from, pve, tcp, 8006));
  }
  CHECK_FALSE(h.allows(vme, vmi, tcp, 22));
  // Remote access only through OpenVPN
  CHECK(h.allows(internet, vme, udp, 1194));
  for (int port : {22, 80, 443, 81, 8096}) CHECK_FALSE(h.allows(internet, vme, tcp, port));
  // Published names: the VPN reaches the proxy on 443, never the backends directly
  CHECK(h.allows(vpn, vme, tcp, 443));
  CHECK_FALSE(h.allows(vpn, vme, tcp, 80));
  for (int port : {8096, 2283, 3000, 22}) CHECK_FALSE(h.allows(vpn, vmi, tcp, port));
  CHECK_FALSE(h.allows(lan, vmi, tcp, 8096));  // LAN clients go through the proxy too
}

TEST_CASE("Postgres 5432 is never allowed between the VMs, nor from anywhere", "[homelab]") {
  Homelab h;
  REQUIRE(h.c->ok());
  auto vmi = h.host("vm-intranet"), vme = h.host("vm-extranet");
  CHECK_FALSE(h.allows(vme, vmi, tcp, 5432));
  CHECK_FALSE(h.allows(vmi, vme, tcp, 5432));
  for (const auto& z : {"lan", "intranet", "extranet", "vpn", "internet"}) {
    CHECK_FALSE(h.allows(h.zone(z), vmi, tcp, 5432));
    CHECK_FALSE(h.allows(h.zone(z), vme, tcp, 5432));
  }
  for (const auto& f : h.c->policy.flows) {
    bool covers = f.proto == tcp && f.ports.first <= 5432 && 5432 <= f.ports.last;
    bool to_vm = f.destination.endpoint == vmi || f.destination.endpoint == vme ||
                 f.destination.endpoint == h.zone("intranet") || f.destination.endpoint == h.zone("extranet");
    CHECK_FALSE((covers && to_vm));
  }
}

TEST_CASE("The resolved matrix is exactly the seed's flows", "[homelab]") {
  Homelab h;
  REQUIRE(h.c->ok());
  std::multiset<std::string> rows;
  for (const auto& f : h.c->policy.flows)
    rows.insert(h.c->policy.describe(f.source) + " -> " + h.c->policy.describe(f.destination) + " " +
                ir::ServicePort{f.proto, f.ports}.str());
  std::multiset<std::string> expected = {
      // LAN clients -> EXTRANET
      "lan -> extranet tcp/443", "lan -> extranet tcp/80", "lan -> extranet udp/1194",
      // EXTRANET -> INTRANET
      "extranet -> intranet tcp/8096", "extranet -> intranet tcp/2283", "extranet -> intranet tcp/3001",
      "extranet -> intranet tcp/9090",
      // INTRANET -> EXTRANET
      "intranet -> extranet tcp/443", "intranet -> extranet udp/53", "intranet -> extranet tcp/53",
      "intranet -> extranet tcp/25", "intranet -> extranet tcp/587",
      // Prometheus -> node_exporter
      "vm-intranet -> vm-extranet tcp/9100",
      // INTRANET -> Internet, outbound only
      "intranet -> internet tcp/1-65535", "intranet -> internet udp/1-65535",
      // administration from the LAN
      "lan -> vm-intranet tcp/22", "lan -> vm-extranet tcp/22", "lan -> pve tcp/22", "lan -> pve tcp/8006",
      // OpenVPN from the internet
      "internet -> vm-extranet udp/1194",
      // published names: VPN clients to the proxy; Grafana (LAN only) from the proxy
      "vpn -> vm-extranet tcp/443", "vm-extranet -> vm-intranet tcp/3000"};
  CHECK(rows == expected);
}

TEST_CASE("The lab addressing keeps every flow of the homelab", "[homelab]") {
  auto home = testing::compile_repo_file("policy/homelab.npol");
  auto lab = testing::compile_repo_file("policy/lab.npol");
  INFO(testing::rendered(*lab));
  REQUIRE(home->ok());
  REQUIRE(lab->ok());
  REQUIRE(home->policy.flows.size() == lab->policy.flows.size());
  CHECK(matrix_text(home->policy) == matrix_text(lab->policy));
  for (const auto& z : lab->policy.zones)
    for (const auto& n : z.networks) {
      bool lab_range = n.prefix == 0 || n.str().rfind("198.18.", 0) == 0 || n.str().rfind("198.19.", 0) == 0 ||
                       n.str().rfind("2001:db8:", 0) == 0;
      CHECK(lab_range);
    }
}
