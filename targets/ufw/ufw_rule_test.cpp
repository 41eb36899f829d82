// The tuple, body, command and `show added` forms of one rule. Expected strings are
// copied from what the real ufw 0.36.2 wrote and printed (see tests/lab/ufw_fixture.sh).
#include <catch2/catch.hpp>

#include <stdexcept>

#include "ufw_rule.h"

using netpol::ufw::Rule;
namespace u = netpol::ufw;

namespace {

Rule ssh_from_lan() {
  Rule r;
  r.proto = "tcp";
  r.dport = "22";
  r.dst = "198.18.1.20";
  r.src = "198.18.1.0/25";
  r.comment = "flows.npol:63 allow lan -> vm : ssh";
  return r;
}

}  // namespace

TEST_CASE("ufw rule: one port - a comment in lowercase hex", "[ufw][rule]") {
  auto r = ssh_from_lan();
  CHECK(u::tuple_line(r) ==
        "### tuple ### allow tcp 22 198.18.1.20 any 198.18.1.0/25 in "
        "comment=666c6f77732e6e706f6c3a363320616c6c6f77206c616e202d3e20766d203a20737368");
  CHECK(u::body_lines(r) ==
        std::vector<std::string>{"-A ufw-user-input -p tcp -d 198.18.1.20 --dport 22 -s 198.18.1.0/25 -j ACCEPT"});
  CHECK(u::cli_args(r) ==
        "allow in from '198.18.1.0/25' to '198.18.1.20' port '22' proto 'tcp' comment 'flows.npol:63 allow lan -> vm : ssh'");
  CHECK(u::added_spec(r) == "allow from 198.18.1.0/25 to 198.18.1.20 port 22 proto tcp");
}

TEST_CASE("ufw rule: port lists and ranges use multiport - before the addresses", "[ufw][rule]") {
  Rule r;
  r.direction = "out";
  r.proto = "tcp";
  r.dport = "1:65535";
  r.dst = "0.0.0.0/1";
  r.src = "198.18.1.20";
  CHECK(u::tuple_line(r) == "### tuple ### allow tcp 1:65535 0.0.0.0/1 any 198.18.1.20 out");
  CHECK(u::body_lines(r) == std::vector<std::string>{
                                "-A ufw-user-output -p tcp -m multiport --dports 1:65535 -d 0.0.0.0/1 -s 198.18.1.20 -j ACCEPT"});
  CHECK(u::added_spec(r) == "allow out from 198.18.1.20 to 0.0.0.0/1 port 1:65535 proto tcp");
}

TEST_CASE("ufw rule: the VPN server's tunnel rules", "[ufw][rule]") {
  Rule in;
  in.iface_in = "tun0";
  in.proto = "tcp";
  in.dport = "443";
  in.dst = "198.18.10.10";
  in.src = "198.18.8.0/24";
  CHECK(u::tuple_line(in) == "### tuple ### allow tcp 443 198.18.10.10 any 198.18.8.0/24 in_tun0");
  CHECK(u::body_lines(in) ==
        std::vector<std::string>{"-A ufw-user-input -i tun0 -p tcp -d 198.18.10.10 --dport 443 -s 198.18.8.0/24 -j ACCEPT"});
  CHECK(u::added_spec(in) == "allow in on tun0 from 198.18.8.0/24 to 198.18.10.10 port 443 proto tcp");

  Rule route = in;
  route.forward = true;
  route.dst = "198.18.1.16/28";
  route.dport = "8096";
  CHECK(u::tuple_line(route) == "### tuple ### route:allow tcp 8096 198.18.1.16/28 any 198.18.8.0/24 in_tun0");
  CHECK(u::body_lines(route) == std::vector<std::string>{
                                    "-A ufw-user-forward -i tun0 -p tcp -d 198.18.1.16/28 --dport 8096 -s 198.18.8.0/24 -j ACCEPT"});
  CHECK(u::cli_args(route) == "route allow in on 'tun0' from '198.18.8.0/24' to '198.18.1.16/28' port '8096' proto 'tcp'");
  CHECK(u::added_spec(route) == "route allow in on tun0 from 198.18.8.0/24 to 198.18.1.16/28 port 8096 proto tcp");

  Rule out;
  out.forward = true;
  out.direction = "out";
  out.iface_out = "tun0";
  out.proto = "tcp";
  out.dport = "22";
  out.dst = "198.18.8.0/24";
  out.src = "198.18.1.0/25";
  CHECK(u::tuple_line(out) == "### tuple ### route:allow tcp 22 198.18.8.0/24 any 198.18.1.0/25 out_tun0");
  CHECK(u::body_lines(out) ==
        std::vector<std::string>{"-A ufw-user-forward -o tun0 -p tcp -d 198.18.8.0/24 --dport 22 -s 198.18.1.0/25 -j ACCEPT"});
  CHECK(u::added_spec(out) == "route allow out on tun0 from 198.18.1.0/25 to 198.18.8.0/24 port 22 proto tcp");
}

TEST_CASE("ufw rule: IPv6 rules use the ufw6- chains", "[ufw][rule]") {
  Rule r = ssh_from_lan();
  r.v6 = true;
  r.dst = "2001:db8:0:1:ff::20";
  r.src = "2001:db8:0:1::/65";
  CHECK(u::body_lines(r) == std::vector<std::string>{
                                "-A ufw6-user-input -p tcp -d 2001:db8:0:1:ff::20 --dport 22 -s 2001:db8:0:1::/65 -j ACCEPT"});
  auto file = u::user_rules_file({r}, true, {"provenance"});
  CHECK(file.rfind("# provenance\n*filter\n:ufw6-user-input - [0:0]\n", 0) == 0);
  CHECK(file.find("-A ufw6-after-logging-output -j LOG") != std::string::npos);
  CHECK(file.find(":ufw-") == std::string::npos);
}

TEST_CASE("ufw rule: the short syntax of `ufw show added`", "[ufw][rule]") {
  Rule r;
  r.proto = "udp";
  r.dport = "1194";
  CHECK(u::added_spec(r) == "allow 1194/udp");
  CHECK(u::tuple_line(r) == "### tuple ### allow udp 1194 0.0.0.0/0 any 0.0.0.0/0 in");
  Rule any;
  any.direction = "out";
  CHECK(u::added_spec(any) == "allow out to any");
}

TEST_CASE("ufw rule: an empty rule set is the file ufw writes with no rules", "[ufw][rule]") {
  auto file = u::user_rules_file({}, false, {});
  CHECK(file.find("### RULES ###\n\n### END RULES ###\n\n### LOGGING ###\n") != std::string::npos);
  CHECK(file.rfind("*filter\n", 0) == 0);
  CHECK(file.ends_with("### END RATE LIMITING ###\nCOMMIT\n"));
}

TEST_CASE("ufw rule: a quote can never reach the script", "[ufw][rule]") {
  Rule r = ssh_from_lan();
  r.comment = "it's";
  CHECK_THROWS_AS(u::cli_args(r), std::invalid_argument);
}

TEST_CASE("ufw rule: hex comments round-trip and bad hex is refused", "[ufw][rule]") {
  CHECK(u::to_hex("A b:\x7e") == "4120623a7e");
  CHECK(u::from_hex("4120623a7e") == std::optional<std::string>("A b:~"));
  CHECK(u::from_hex("4120623A7E") == std::optional<std::string>("A b:~"));
  CHECK_FALSE(u::from_hex("412"));
  CHECK_FALSE(u::from_hex("zz"));
}
