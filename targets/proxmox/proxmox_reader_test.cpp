// The strict reader: what it accepts, and the input either Proxmox parser would refuse
// or warn about, each reported as "file:line: message".
#include <string>
#include <vector>

#include "proxmox_reader.h"
#include "proxmox_test_support.h"

using namespace netpol;
using namespace netpol::proxmox;

namespace {

// Lines 1-20: options, aliases, an ipset, and the [RULES] header.
const char* kHead = R"(# a comment line
[OPTIONS]

enable: 1
policy_in: DROP

[ALIASES]

web 198.18.10.10 # the web VM
web6 2001:db8::10

[IPSET lan] # household

198.18.1.0/24
!198.18.1.16/28
2001:db8:0:1::/64
dc/web

[RULES]

)";

// Lines 21-28: a rule and a group.
const char* kRest = R"(IN ACCEPT -source +dc/lan -p tcp -dport 22

[group web]

IN ACCEPT -source +dc/lan -dest dc/web -p tcp -dport 443,8000:8010 # https
OUT ACCEPT -dest 198.18.20.0/24 -p udp -dport 53
IN ACCEPT -source 198.18.1.10-198.18.1.20 -p icmp -icmp-type echo-request
|IN ACCEPT -source dc/web6 -p icmpv6 -icmp-type echo-request
)";

const std::string kCluster = std::string(kHead) + kRest;

FwRead read_cluster(const std::string& text) { return read_fw(text, FwKind::cluster, "cluster.fw"); }

// The errors of cluster.fw with one more rule in [RULES], at line 21.
std::vector<std::string> rule_errors(const std::string& rule) { return read_cluster(kHead + rule + kRest).errors; }
const std::string kRule = "cluster.fw:21";

// The errors of cluster.fw with `tail` after it, from line 29.
std::vector<std::string> tail_errors(const std::string& tail) { return read_cluster(kCluster + tail).errors; }
const std::string kTail = "cluster.fw:29";

// The errors of a host or guest file that may name kCluster's objects.
std::vector<std::string> file_errors(const std::string& text, FwKind kind) {
  static const auto cluster = read_cluster(kCluster);
  return read_fw(text, kind, kind == FwKind::host ? "host.fw" : "100.fw", &cluster.file).errors;
}

// Exactly one error, at that place, saying that.
void refused(const std::vector<std::string>& errors, const std::string& where, const std::string& says) {
  INFO(Catch::Detail::stringify(errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].rfind(where + ": ", 0) == 0);
  CHECK(errors[0].find(says) != std::string::npos);
}

}  // namespace

TEST_CASE("proxmox reader: a canonical file reads without errors, into its objects") {
  auto read = read_cluster(kCluster);
  CHECK(read.errors == std::vector<std::string>{});
  const auto& f = read.file;
  CHECK(f.options.at("enable") == "1");
  CHECK(f.aliases.size() == 2);
  REQUIRE(f.ipsets.at("lan").size() == 4);
  CHECK(f.ipsets.at("lan")[1].nomatch);
  CHECK(f.ipsets.at("lan")[3].cidr.str(true) == "198.18.10.10");  // an alias entry, resolved
  REQUIRE(f.rules.size() == 1);
  REQUIRE(f.groups.at("web").size() == 4);
  const auto& https = f.groups.at("web")[0];
  CHECK(https.dest.kind == FwAddress::Kind::alias);
  CHECK(https.dports == std::vector<ir::PortRange>{{443, 443}, {8000, 8010}});
  CHECK(https.comment == "https");
  CHECK(f.groups.at("web")[2].source.networks.size() == 4);  // .10/31 .12/30 .16/30 .20/32
  CHECK(!f.groups.at("web")[3].enabled);
  CHECK(tail_errors("\n[group empty]\n") == std::vector<std::string>{});
}

TEST_CASE("proxmox reader: refused section headers") {
  refused(tail_errors("[IPSET]\n"), kTail, "incomplete ipset section header");
  refused(tail_errors("[IPSET ]\n"), kTail, "invalid ipset name");
  refused(tail_errors("[IPSET x]\n"), kTail, "invalid ipset name 'x'");  // names are 2 characters or more
  refused(tail_errors("[ipset other]\n"), kTail, "invalid section header");
  refused(tail_errors("[VIRTUAL_GUESTS]\n"), kTail, "invalid section header");
  refused(tail_errors("[group Web2]\n"), kTail, "not lower-case");
  refused(tail_errors("[group nineteen-characters]\n"), kTail, "longer than 18");
  refused(tail_errors("[group other] extra\n"), kTail, "text after");
  refused(tail_errors("[group web]\n"), kTail, "duplicate group");
  refused(tail_errors("[IPSET xx] # late\n"), kTail, "out of the writer's order");
  refused(read_cluster("[OPTIONS]\n[OPTIONS]\n").errors, "cluster.fw:2", "a second section");
  refused(file_errors("[IPSET xx]\n", FwKind::host), "host.fw:1", "host.fw");
  refused(file_errors("[ALIASES]\n", FwKind::host), "host.fw:1", "cannot have");
  refused(file_errors("[group gg]\n", FwKind::guest), "100.fw:1", "outside cluster.fw");
}

TEST_CASE("proxmox reader: refused lines outside or inside sections") {
  refused(read_cluster("enable: 1\n").errors, "cluster.fw:1", "outside any section");
  refused(read_cluster("[OPTIONS]\nenable: 1\r\n").errors, "cluster.fw:2", "carriage return");
  refused(read_cluster("[OPTIONS]\nenable:  1\n").errors, "cluster.fw:2", "exactly one space");
  refused(read_cluster("[OPTIONS]\nenable:1\n").errors, "cluster.fw:2", "exactly one space");
  refused(read_cluster("[OPTIONS]\npolicy_in: drop\n").errors, "cluster.fw:2", "is not ACCEPT, DROP or REJECT");
  refused(read_cluster("[OPTIONS]\nbogus: 1\n").errors, "cluster.fw:2", "unknown option");
  refused(read_cluster("[OPTIONS]\nenable: 1\nenable: 0\n").errors, "cluster.fw:3", "duplicate option");
  refused(read_fw("[OPTIONS]\npolicy_in: DROP\n", FwKind::host, "host.fw").errors, "host.fw:2", "unknown option");
  refused(read_cluster("[ALIASES]\nweb  198.18.1.1\n").errors, "cluster.fw:2", "exactly one space");
  refused(read_cluster("[ALIASES]\nWeb 198.18.1.1\n").errors, "cluster.fw:2", "not lower-case");
  refused(read_cluster("[ALIASES]\nweb 198.18.1.1\nweb 198.18.1.2\n").errors, "cluster.fw:3", "duplicate alias");
  refused(read_cluster("[OPTIONS]\nenable: 1 \x01\n").errors, "cluster.fw:2", "control character");
  refused(read_cluster("[RULES]\nIN ACCEPT # caf\xc3\n").errors, "cluster.fw:2", "not UTF-8");
}

TEST_CASE("proxmox reader: non-canonical networks, wherever they stand") {
  refused(read_cluster("[ALIASES]\nweb 198.18.1.5/24\n").errors, "cluster.fw:2",
          "non-canonical address '198.18.1.5/24': write 198.18.1.0/24");
  refused(read_cluster("[IPSET xx]\n\n198.18.1.5/24\n").errors, "cluster.fw:3", "non-canonical");
  refused(rule_errors("IN ACCEPT -source 198.18.1.5/24\n"), kRule, "non-canonical");
  refused(rule_errors("IN ACCEPT -dest 2001:db8::1/64\n"), kRule, "non-canonical");
}

TEST_CASE("proxmox reader: refused ipset entries") {
  refused(read_cluster("[IPSET xx]\n\n0.0.0.0/0\n").errors, "cluster.fw:3", "zero prefix");
  refused(read_cluster("[IPSET xx]\n\n198.18.1.0/24\n!198.18.1.0/24\n").errors, "cluster.fw:4", "duplicate ipset entry");
  refused(read_cluster("[IPSET xx]\n\nweb\n").errors, "cluster.fw:3", "unscoped alias");
  refused(read_cluster("[IPSET xx]\n\ndc/nope\n").errors, "cluster.fw:3", "no such alias");
  refused(read_cluster("[IPSET xx]\n\n198.18.1.0/24 198.18.2.0/24\n").errors, "cluster.fw:3", "one address");
}

TEST_CASE("proxmox reader: rule options, exactly as both parsers read them") {
  refused(rule_errors("IN ACCEPT -p  tcp\n"), kRule, "exactly one space between -p");
  refused(rule_errors("IN ACCEPT -p tcp -p udp\n"), kRule, "given twice");
  refused(rule_errors("IN ACCEPT -p tcp -source +dc/lan\n"), kRule, "writer's order");
  refused(rule_errors("IN ACCEPT --comment x\n"), kRule, "unknown rule option");
  refused(rule_errors("IN ACCEPT -p tcp -dport\n"), kRule, "exactly one space");
  refused(rule_errors("IN accept\n"), kRule, "unknown action");
  refused(rule_errors("IN SSH(ACCEPT)\n"), kRule, "macro");
  refused(rule_errors("group web\n"), kRule, "upper-case GROUP");
  refused(rule_errors("IN ACCEPT # one # two\n"), kRule, "a second '#'");
  refused(rule_errors("IN ACCEPT #\n"), kRule, "empty comment");
  refused(rule_errors("| IN ACCEPT\n"), kRule, "after the '|'");
  refused(rule_errors("FORWARD REJECT\n"), kRule, "FORWARD ... REJECT");
  refused(rule_errors("IN ACCEPT -i br-lan\n"), kRule, "invalid interface");
  refused(rule_errors("IN ACCEPT -log verbose\n"), kRule, "invalid log level");
  refused(rule_errors("IN ACCEPT -p bogus\n"), kRule, "unknown protocol");
  refused(tail_errors("IN ACCEPT -i vmbr0\n"), kTail, "-i inside a [group]");
  refused(tail_errors("GROUP web\n"), kTail, "groups do not nest");
  CHECK(rule_errors("in ACCEPT -i vmbr0.100 -p 6 -dport 22 -log nolog\n") == std::vector<std::string>{});
}

TEST_CASE("proxmox reader: ports and ICMP types") {
  refused(rule_errors("IN ACCEPT -p tcp -dport 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n"), kRule, "16 numbers, more than 15");
  refused(rule_errors("IN ACCEPT -p tcp -dport 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16\n"), kRule, "16 numbers");
  CHECK(rule_errors("IN ACCEPT -p tcp -dport 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n") == std::vector<std::string>{});
  refused(rule_errors("IN ACCEPT -p tcp -dport 80,,443\n"), kRule, "an empty element");
  refused(rule_errors("IN ACCEPT -p tcp -dport 90:80\n"), kRule, "backwards");
  refused(rule_errors("IN ACCEPT -p tcp -dport 65536\n"), kRule, "over 65535");
  refused(rule_errors("IN ACCEPT -p tcp -dport ssh\n"), kRule, "service names are not read");
  refused(rule_errors("IN ACCEPT -dport 22\n"), kRule, "-dport without -p");
  refused(rule_errors("IN ACCEPT -p icmp -dport 8\n"), kRule, "no ports");
  refused(rule_errors("IN ACCEPT -p icmp -icmp-type 8\n"), kRule, "numbers are refused");
  refused(rule_errors("IN ACCEPT -p icmpv6 -icmp-type redirect\n"), kRule, "not a name both");
  refused(rule_errors("IN ACCEPT -p tcp -icmp-type echo-request\n"), kRule, "needs -p icmp");
}

TEST_CASE("proxmox reader: one address family per rule") {
  refused(rule_errors("IN ACCEPT -source 198.18.1.0/24 -dest 2001:db8::/32\n"), kRule, "mixes IPv4 and IPv6");
  refused(rule_errors("IN ACCEPT -source 198.18.1.1,2001:db8::1\n"), kRule, "mixes IPv4 and IPv6");
  refused(rule_errors("IN ACCEPT -source dc/web6 -p icmp\n"), kRule, "mixes IPv4 and IPv6");
  refused(rule_errors("IN ACCEPT -source dc/web -dest dc/web6\n"), kRule, "mixes IPv4 and IPv6");
  refused(rule_errors("IN ACCEPT -source 198.18.1.1,198.18.1.5-198.18.1.9\n"), kRule, "a range inside a list");
  CHECK(rule_errors("IN ACCEPT -source +dc/lan -dest dc/web6 -p icmpv6\n") == std::vector<std::string>{});
}

TEST_CASE("proxmox reader: references must be scoped and defined before use") {
  refused(rule_errors("IN ACCEPT -source dc/nope\n"), kRule, "no such alias 'dc/nope'");
  refused(rule_errors("IN ACCEPT -source +dc/nope\n"), kRule, "no such ipset");
  refused(rule_errors("IN ACCEPT -source +lan\n"), kRule, "unscoped ipset");
  refused(rule_errors("IN ACCEPT -source web\n"), kRule, "unscoped alias");
  refused(rule_errors("IN ACCEPT -source +sdn/vnet\n"), kRule, "+sdn/");
  refused(rule_errors("IN ACCEPT -source +guest/lan\n"), kRule, "outside a guest file");
  // [RULES] naming an ipset that a later section defines: the daemon reads in one pass.
  auto late = read_cluster("[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nIN ACCEPT -source +dc/later\n\n[IPSET later]\n\n198.18.1.0/24\n");
  REQUIRE(late.errors.size() == 2);
  CHECK(late.errors[0].rfind("cluster.fw:7: ", 0) == 0);
  CHECK(late.errors[0].find("no such ipset") != std::string::npos);
  CHECK(late.errors[1].rfind("cluster.fw:9: ", 0) == 0);
  CHECK(late.errors[1].find("out of the writer's order") != std::string::npos);
  refused(read_cluster("[RULES]\n\nGROUP missing\n").errors, "cluster.fw:3", "no such security group 'missing'");
}

TEST_CASE("proxmox reader: guest and host files") {
  CHECK(file_errors("[OPTIONS]\n\nenable: 1\npolicy_out: DROP\n\n[RULES]\n\nGROUP web -i net0\nOUT ACCEPT -dest +dc/lan\n",
                    FwKind::guest) == std::vector<std::string>{});
  refused(file_errors("[RULES]\n\nGROUP nope\n", FwKind::guest), "100.fw:3", "no such security group 'nope'");
  refused(file_errors("[RULES]\n\nIN ACCEPT -i eth0\n", FwKind::guest), "100.fw:3", "invalid interface");
  refused(file_errors("[RULES]\n\nFORWARD ACCEPT\n", FwKind::guest), "100.fw:3", "not allowed in a guest file");
  refused(file_errors("[RULES]\n\nGROUP web -p tcp\n", FwKind::guest), "100.fw:3", "takes only -i");
  CHECK(file_errors("[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nIN ACCEPT -source +dc/lan -dest dc/web -p tcp -dport 22\n",
                    FwKind::host) == std::vector<std::string>{});
}
