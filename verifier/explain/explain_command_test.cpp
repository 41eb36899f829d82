#include "explain_command.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "test_support.h"

using namespace netpol;

namespace {

// "flows.npol:N" for the first line of policy/flows.npol that starts with `statement`.
std::string flows_line(const std::string& statement) {
  std::ifstream f(std::string(NETPOL_SOURCE_DIR) + "/policy/flows.npol");
  std::string line;
  for (int n = 1; std::getline(f, line); ++n)
    if (line.rfind(statement, 0) == 0) return "flows.npol:" + std::to_string(n);
  FAIL("no line starts with '" << statement << "' in policy/flows.npol");
  return {};
}

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

Run explain(const std::string& src, const std::string& dst, const std::string& port) {
  auto c = testing::compile_repo_file("policy/homelab.npol");
  REQUIRE(c->ok());
  ExplainCommand cmd{"policy/homelab.npol", src, dst, port};
  std::ostringstream out, err;
  Run r;
  r.status = run_explain_command(cmd, *c, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

bool has_line(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("explain: lan -> vm-extranet 443/tcp is allowed by allow lan -> extranet, with its target lines") {
  auto rule = flows_line("allow lan -> extranet");
  auto r = explain("lan", "vm-extranet", "443/tcp");
  INFO(r.out << r.err);
  CHECK(r.status == kExplainAllowed);
  CHECK(has_line(r.out, "verdict      allowed\n"));
  CHECK(has_line(r.out, "decided by   " + rule + "  allow lan -> extranet : https, http, openvpn\n"));
  // The Proxmox group of the VM, and the VM's ufw script.
  CHECK(has_line(r.out, "  proxmox/cluster.fw:"));
  CHECK(has_line(r.out, "IN ACCEPT -source +dc/lan -p tcp -dport 80,443 # " + rule +
                            " allow lan -> extranet : https, http, openvpn\n"));
  CHECK(has_line(r.out, "  ufw/vm-extranet.sh:"));
  CHECK(has_line(r.out, "ufw allow in from '192.168.1.0/28' to '192.168.10.10' port '80,443' proto 'tcp' comment '" +
                            rule + " allow lan -> extranet : https, http, openvpn'\n"));
  // Only the lines of this port and protocol, of this rule, of the hosts at the ends.
  CHECK_FALSE(has_line(r.out, "udp"));
  CHECK_FALSE(has_line(r.out, "vm-intranet.sh"));
  CHECK_FALSE(has_line(r.out, "openvpn/"));
}

TEST_CASE("explain: the emitted lines carry their file line numbers") {
  auto c = testing::compile_repo_file("policy/homelab.npol");
  REQUIRE(c->ok());
  auto outputs = build_outputs(*c);
  auto src = resolve_explain_end(c->policy, "lan");
  auto dst = resolve_explain_end(c->policy, "vm-extranet");
  auto port = parse_explain_port("tcp/443");
  REQUIRE(src.end);
  REQUIRE(dst.end);
  REQUIRE(port);
  auto ex = explain_flow(c->policy, outputs, *src.end, *dst.end, *port);
  REQUIRE(ex.allowed);
  REQUIRE_FALSE(ex.emitted.empty());
  for (const auto& e : ex.emitted) {
    std::istringstream file(outputs.at(e.file));
    std::string line;
    for (int n = 1; n <= e.line; ++n) std::getline(file, line);
    CHECK(line.find(e.text) != std::string::npos);
  }
}

TEST_CASE("explain: vm-extranet -> vm-intranet 5432/tcp is denied by the default deny") {
  auto r = explain("vm-extranet", "vm-intranet", "5432/tcp");
  INFO(r.out << r.err);
  CHECK(r.status == kExplainDenied);
  CHECK(has_line(r.out, "verdict      denied\n"));
  CHECK(has_line(r.out, "decided by   the default deny"));
  CHECK_FALSE(has_line(r.out, "decided by   flows.npol:"));
  CHECK(has_line(r.out, "emitted      nothing"));
}

TEST_CASE("explain: addresses resolve to the host that has them, else the most specific zone") {
  auto r = explain("192.168.1.50", "192.168.10.10", "22/tcp");
  INFO(r.out << r.err);
  CHECK(r.status == kExplainAllowed);
  CHECK(has_line(r.out, "source       192.168.1.50 = zone lan "));
  CHECK(has_line(r.out, "destination  192.168.10.10 = host vm-extranet "));
  CHECK(has_line(r.out, "decided by   " + flows_line("allow lan -> vm-intranet, vm-extranet : ssh")));
  // The ufw line whose source network holds 192.168.1.50, and no other.
  CHECK(has_line(r.out, "ufw allow in from '192.168.1.32/27' to '192.168.10.10' port '22' proto 'tcp'"));
  CHECK_FALSE(has_line(r.out, "from '192.168.1.0/28'"));
  CHECK_FALSE(has_line(r.out, "from 'fd42:"));

  auto c = testing::compile_repo_file("policy/homelab.npol");
  auto in_intranet = resolve_explain_end(c->policy, "192.168.1.17");
  REQUIRE(in_intranet.end);
  CHECK(c->policy.name_of(in_intranet.end->endpoint) == "intranet");
  auto outside = resolve_explain_end(c->policy, "203.0.113.9");
  REQUIRE(outside.end);
  CHECK(c->policy.name_of(outside.end->endpoint) == "internet");
  auto v6 = resolve_explain_end(c->policy, "fd42:0:0:1:ff::20");
  REQUIRE(v6.end);
  CHECK(c->policy.name_of(v6.end->endpoint) == "vm-intranet");
}

TEST_CASE("explain: an unknown name exits 2 with a suggestion") {
  auto r = explain("lan", "vm-extranett", "443/tcp");
  CHECK(r.status == kExplainUsage);
  CHECK(r.out.empty());
  CHECK(has_line(r.err, "'vm-extranett'"));
  CHECK(has_line(r.err, "did you mean 'vm-extranet'?"));
}

TEST_CASE("explain: a bad PORT/PROTO exits 2") {
  auto r = explain("lan", "vm-extranet", "443/sctp");
  CHECK(r.status == kExplainUsage);
  CHECK(has_line(r.err, "is not a PORT/PROTO"));
}

TEST_CASE("explain: PORT/PROTO in either order, and icmp") {
  auto a = parse_explain_port("443/tcp");
  auto b = parse_explain_port("tcp/443");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->proto == ir::Proto::tcp);
  CHECK(a->port == 443);
  CHECK(b->proto == a->proto);
  CHECK(b->port == a->port);
  auto u = parse_explain_port("UDP/53");
  REQUIRE(u);
  CHECK(u->proto == ir::Proto::udp);
  auto icmp = parse_explain_port("icmp");
  REQUIRE(icmp);
  CHECK(icmp->proto == ir::Proto::icmp);
  CHECK(icmp->port == 8);
  auto reply = parse_explain_port("icmp/echo-reply");
  REQUIRE(reply);
  CHECK(reply->port == 0);
  CHECK_FALSE(parse_explain_port("tcp"));
  CHECK_FALSE(parse_explain_port("tcp/0"));
  CHECK_FALSE(parse_explain_port("tcp/65536"));
  CHECK_FALSE(parse_explain_port("443"));
  CHECK_FALSE(parse_explain_port("icmp/bogus"));
}

TEST_CASE("explain: a published name shows the NPM proxy host, a VPN client the pushed route") {
  auto r = explain("vpn", "vm-extranet", "443/tcp");
  INFO(r.out << r.err);
  CHECK(r.status == kExplainAllowed);
  auto publish = flows_line("publish jellyfin.home.arpa");
  CHECK(has_line(r.out, "decided by   " + publish + "  publish jellyfin.home.arpa"));
  CHECK(has_line(r.out, "IN ACCEPT -source +dc/vpn -p tcp -dport 443 # " + publish));
  CHECK(has_line(r.out, "  npm/proxy-hosts.json:"));
  CHECK(has_line(r.out, "proxy host jellyfin.home.arpa -> http://192.168.1.20:8096"));
  CHECK(has_line(r.out, "  openvpn/server.conf:"));
  CHECK(has_line(r.out, "push \"route 192.168.10.0 255.255.255.0\""));
}

TEST_CASE("explain: the internet reaches OpenVPN through the VPN's listen rule") {
  auto r = explain("203.0.113.9", "vm-extranet", "1194/udp");
  INFO(r.out << r.err);
  CHECK(r.status == kExplainAllowed);
  CHECK(has_line(r.out, "decided by   " + flows_line("vpn remote on vm-extranet")));
  CHECK(has_line(r.out, "ufw allow in from '200.0.0.0/5' to '192.168.10.10' port '1194' proto 'udp'"));
  CHECK_FALSE(has_line(r.out, "from '0.0.0.0/5'"));
  CHECK(has_line(r.out, "IN ACCEPT -source +dc/internet -p udp -dport 1194"));
  CHECK(has_line(r.out, "openvpn/server.conf:"));
  CHECK(has_line(r.out, "port 1194"));
}
