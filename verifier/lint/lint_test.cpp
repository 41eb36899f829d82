#include "lint.h"

#include <catch2/catch.hpp>
#include <random>
#include <set>

#include "lint_codes.h"
#include "matrix.h"
#include "test_support.h"

using namespace netpol;

namespace {

// Eleven lines: the rules of each test start on line 12.
const char* kTopology =
    "zone lan\n"                        // 1
    "zone dmz\n"                        // 2
    "zone v6net\n"                      // 3
    "address lan 198.18.1.0/24\n"       // 4
    "address dmz 198.18.2.0/24\n"       // 5
    "address v6net 2001:db8:6::/64\n"   // 6
    "host web in dmz\n"                 // 7
    "host db in dmz\n"                  // 8
    "address web 198.18.2.10\n"         // 9
    "address db 198.18.2.11\n"          // 10
    "service https tcp/443\n";          // 11

struct Linted {
  std::unique_ptr<Compilation> c;
  std::size_t first = 0;  // the lint's diagnostics start here
  std::vector<Diagnostic> found() const { return c->diags.sorted(first); }
  // "W800@13:1" for each lint finding with this code (all codes when empty), in source order.
  std::vector<std::string> codes(std::string_view code = {}) const {
    std::vector<std::string> out;
    for (const auto& d : found()) {
      if (!code.empty() && d.code != code) continue;
      auto lc = c->sources.file(d.span.file).position(d.span.begin);
      out.push_back(d.code + "@" + std::to_string(lc.line) + ":" + std::to_string(lc.column));
    }
    return out;
  }
  const Diagnostic& only(std::string_view code) const {
    static Diagnostic none;
    for (const auto& d : c->diags.all())
      if (d.code == code) return d;
    FAIL("no " << code);
    return none;
  }
  int line(const Span& s) const { return c->sources.file(s.file).position(s.begin).line; }
  std::vector<int> note_lines(const Diagnostic& d) const {
    std::vector<int> out;
    for (const auto& n : d.notes) out.push_back(line(n.span));
    return out;
  }
};

Linted lint_text(const std::string& text) {
  Linted l{testing::compile_text(text)};
  INFO(testing::rendered(*l.c));
  REQUIRE(l.c->ok());
  l.first = l.c->diags.all().size();
  lint_policy(l.c->policy, l.c->diags);
  return l;
}

Linted lint_rules(const std::string& rules) { return lint_text(std::string(kTopology) + rules); }

using Codes = std::vector<std::string>;

}  // namespace

TEST_CASE("W800: a rule every packet of which earlier rules decide the same way, naming them", "[lint]") {
  auto l = lint_rules("allow lan -> dmz : tcp/1-1000\n"
                      "allow lan -> web : https\n");
  CHECK(l.codes(lint::code::kShadowed) == Codes{"W800@13:1"});
  const auto& d = l.only(lint::code::kShadowed);
  CHECK(d.severity == Severity::warning);
  CHECK(l.note_lines(d) == std::vector<int>{12});
  CHECK_THAT(d.notes[0].message, Catch::Contains("allow lan -> dmz : tcp/1-1000") && Catch::Contains("tcp/443 from lan to web"));

  SECTION("shadowed by several rules together: each is named") {
    auto l2 = lint_rules("allow lan -> web : https\n"
                         "allow lan -> db : tcp/400-500\n"
                         "allow lan -> dmz : tcp/443\n"
                         "allow lan -> dmz, db : https\n");
    CHECK(l2.codes(lint::code::kShadowed) == Codes{"W800@15:1"});
    CHECK(l2.note_lines(l2.only(lint::code::kShadowed)) == std::vector<int>{12, 13, 14});
  }
  SECTION("a rule that still decides one port is not shadowed") {
    auto l2 = lint_rules("allow lan -> dmz : tcp/1-1000\n"
                         "allow lan -> web : tcp/443-1001\n");
    CHECK(l2.codes(lint::code::kShadowed).empty());
  }
}

TEST_CASE("E801: a deny that never takes effect because an earlier allow lets its packets through", "[lint]") {
  auto l = lint_rules("allow lan -> dmz : tcp/1-1000\n"
                      "deny lan -> db : tcp/22\n");
  CHECK(l.codes() == Codes{"W805@3:1", "W806@7:1", "W807@11:1", "E801@13:1"});
  const auto& d = l.only(lint::code::kDenyOverruled);
  CHECK(d.severity == Severity::error);
  CHECK_THAT(d.message, Catch::Contains("tcp/22 from lan to db is allowed by 'allow lan -> dmz : tcp/1-1000'"));
  CHECK(l.note_lines(d) == std::vector<int>{12});

  SECTION("the exception pattern (a deny above a broader allow) is no finding") {
    auto l2 = lint_rules("deny lan -> db : tcp/22\n"
                         "allow lan -> dmz : tcp/1-1000\n");
    CHECK(l2.codes() == Codes{"W805@3:1", "W806@7:1", "W807@11:1"});
  }
  SECTION("a deny that still decides some packets is not reported (see docs: W800)") {
    auto l2 = lint_rules("allow lan -> web : https\n"
                         "deny lan -> dmz : https\n");
    CHECK(l2.codes(lint::code::kDenyOverruled).empty());
  }
}

TEST_CASE("W802: an allow, or a vpn/publish flow, that earlier denies overrule", "[lint]") {
  auto l = lint_rules("deny lan -> dmz : any\n"
                      "allow lan -> web : https\n");
  CHECK(l.codes(lint::code::kAllowOverruled) == Codes{"W802@13:1"});
  CHECK_THAT(l.only(lint::code::kAllowOverruled).message, Catch::Contains("tcp/443 from lan to web is denied by 'deny lan -> dmz : any'"));

  SECTION("a published name whose clients an earlier deny blocks") {
    auto l2 = lint_rules("deny lan -> web : any\n"
                         "publish app.example.test on web -> db:https { tls from lan }\n");
    CHECK(l2.codes() == Codes{"W805@3:1", "W802@13:1"});
    CHECK_THAT(l2.only(lint::code::kAllowOverruled).message,
               Catch::StartsWith("the flow published name 'app.example.test' needs from its clients to the proxy never takes effect"));
    CHECK(l2.note_lines(l2.only(lint::code::kAllowOverruled)) == std::vector<int>{12});
  }
}

TEST_CASE("W803: an allow whose packets a later rule allows too", "[lint]") {
  auto l = lint_rules("allow lan -> web : https\n"
                      "allow lan -> dmz : https\n");
  CHECK(l.codes() == Codes{"W805@3:1", "W806@8:1", "W803@12:1"});
  const auto& d = l.only(lint::code::kRedundant);
  CHECK(l.note_lines(d) == std::vector<int>{13});

  SECTION("not redundant when a later deny would decide some of its packets") {
    auto l2 = lint_rules("allow lan -> web : tcp/1-1000\n"
                         "deny lan -> web : https\n"
                         "allow lan -> web : tcp/1-1000\n");
    CHECK(l2.codes() == Codes{"W805@3:1", "W806@8:1", "E801@13:1", "W800@14:1"});
  }
  SECTION("not redundant when some packets would fall to the default deny") {
    auto l2 = lint_rules("allow lan -> dmz : https\n"
                         "allow lan -> web : https\n");
    CHECK(l2.codes(lint::code::kRedundant).empty());
  }
  SECTION("redundant with a later published name's flow") {
    auto l2 = lint_rules("allow lan -> web : https\n"
                         "publish app.example.test on web -> db:https { tls from lan }\n");
    CHECK(l2.codes() == Codes{"W805@3:1", "W803@12:1"});
  }
}

TEST_CASE("W804: a rule that matches no packet", "[lint]") {
  auto l = lint_rules("allow lan -> v6net : https\n"
                      "allow web -> web : https\n"
                      "allow lan -> lan : https\n");
  CHECK(l.codes(lint::code::kMatchesNothing) == Codes{"W804@12:1", "W804@13:1"});
  std::vector<Diagnostic> found;
  for (const auto& d : l.found())
    if (d.code == lint::code::kMatchesNothing) found.push_back(d);
  REQUIRE(found.size() == 2);
  CHECK_THAT(found[0].message, Catch::Contains("no source shares an address family"));
  CHECK(l.note_lines(found[0]) == std::vector<int>{1, 3});
  CHECK_THAT(found[0].notes[1].message, Catch::Contains("'v6net' has IPv6 only"));
  CHECK_THAT(found[1].message, Catch::Contains("the same host"));
}

TEST_CASE("W805-W807: zones, hosts and services never used", "[lint]") {
  auto l = lint_text("zone lan { bridge vmbr0 }\n"      // 1
                     "zone inner in lan\n"              // 2
                     "zone spare\n"                     // 3
                     "zone vpn\n"                       // 4
                     "zone internet\n"                  // 5
                     "address lan 198.18.0.0/16\n"      // 6
                     "address inner 198.18.1.0/24\n"    // 7
                     "address spare 198.19.0.0/24\n"    // 8
                     "address vpn 10.8.0.0/24\n"        // 9
                     "address internet 0.0.0.0/0\n"     // 10
                     "host printer in lan\n"            // 11
                     "host vm in lan { vmid 100 }\n"    // 12
                     "host gw in inner\n"               // 13
                     "address printer 198.18.2.5\n"     // 14
                     "address vm 198.18.2.6\n"          // 15
                     "address gw 198.18.1.1\n"          // 16
                     "service openvpn udp/1194\n"       // 17
                     "service postgres tcp/5432\n"      // 18
                     "service spare-svc tcp/9999\n"     // 19
                     "never internet -> vm : postgres\n"  // 20
                     "vpn remote on gw {\n"             // 21
                     "  listen openvpn from internet\n"
                     "  pool vpn\n"
                     "  route inner\n"
                     "}\n");
  // lan is used through its nested zone inner (the VPN's route and gw's zone); the VM is the
  // Proxmox target's to configure; openvpn is the VPN's listener; postgres is named by a never.
  CHECK(l.codes() == Codes{"W805@3:1", "W806@11:1", "W807@19:1"});
  auto found = l.found();
  CHECK_THAT(found[0].message, Catch::Contains("zone 'spare'"));
  CHECK_THAT(found[1].message, Catch::Contains("host 'printer'"));
  CHECK(l.note_lines(found[1]) == std::vector<int>{1});
  CHECK_THAT(found[2].message, Catch::Contains("service 'spare-svc'"));
}

TEST_CASE("The homelab and lab policies have no lint finding", "[lint][homelab]") {
  for (const char* path : {"policy/homelab.npol", "policy/lab.npol"}) {
    auto c = testing::compile_repo_file(path);
    REQUIRE(c->ok());
    auto before = c->diags.all().size();
    lint_policy(c->policy, c->diags);
    INFO(path << "\n" << testing::rendered(*c));
    CHECK(c->diags.all().size() == before);
    CHECK(c->diags.all().empty());
  }
}

TEST_CASE("The homelab's publish flows are shadowed on purpose, and an explicit copy of one is reported", "[lint][homelab]") {
  // What the lint leaves alone (docs/diagnostics.md, W800): photos.home.arpa's client flow is
  // all decided before it (lan by the https rule, vpn by jellyfin's publish). Written as an
  // explicit rule at the end of the policy, the same flow is a W800.
  DiskFileReader disk;
  std::string error;
  std::string flows = disk.read(std::string(NETPOL_SOURCE_DIR) + "/policy/flows.npol", error).value();
  std::string addresses = disk.read(std::string(NETPOL_SOURCE_DIR) + "/policy/homelab-addresses.npol", error).value();
  auto c = testing::compile({{"main.npol", "include \"a.npol\"\ninclude \"flows.npol\"\n"},
                             {"a.npol", addresses},
                             {"flows.npol", flows + "allow lan, vpn -> vm-extranet : https\n"}});
  REQUIRE(c->ok());
  lint_policy(c->policy, c->diags);
  auto codes = testing::codes(*c);
  REQUIRE(codes.size() == 1);
  CHECK(codes[0].starts_with("W800@"));
}

namespace {

// Every (atom pair, protocol, port) verdict, at every port where a rule's range starts or ends.
std::vector<bool> verdicts(const ir::Policy& p, const std::set<int>& ports) {
  Matrix m(p);
  std::vector<ir::Endpoint> atoms;
  for (int h = 0; h < static_cast<int>(p.hosts.size()); ++h) atoms.push_back({ir::Endpoint::Kind::host, h});
  for (int z = 0; z < static_cast<int>(p.zones.size()); ++z) atoms.push_back({ir::Endpoint::Kind::zone, z});
  std::vector<bool> out;
  for (const auto& s : atoms)
    for (const auto& d : atoms)
      if (!(s == d && s.kind == ir::Endpoint::Kind::host))  // a host to itself: no packet
      for (auto proto : {ir::Proto::tcp, ir::Proto::udp})
        for (int port : ports) out.push_back(m.decide(s, d, proto, static_cast<std::uint16_t>(port)).allowed);
  return out;
}

}  // namespace

TEST_CASE("Exact: removing an allow changes no verdict iff the lint reports it (W800, W802, W803, W804)", "[lint][property]") {
  // Random policies over one family (W804 only for a host to itself), checked against the matrix itself:
  // each allow is removed in turn and every verdict compared at every range boundary.
  std::mt19937 rng(20240605);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> ends{"lan", "dmz", "web", "db"};
  int flagged = 0;
  int kept = 0;
  for (int round = 0; round < 60; ++round) {
    std::vector<std::string> rules;
    std::set<int> ports{1, 65535};
    int n = 3 + pick(5);
    for (int i = 0; i < n; ++i) {
      int a = 1 + pick(40);
      int b = a + pick(30);
      ports.insert({a - 1 < 1 ? 1 : a - 1, a, b, b + 1});
      rules.push_back(std::string(pick(3) == 0 ? "deny " : "allow ") + ends[static_cast<std::size_t>(pick(4))] + " -> " +
                      ends[static_cast<std::size_t>(pick(4))] + " : " + (pick(2) ? "tcp/" : "udp/") + std::to_string(a) +
                      "-" + std::to_string(b) + "\n");
    }
    std::string all;
    for (const auto& r : rules) all += r;
    auto l = lint_rules(all);
    auto full = verdicts(l.c->policy, ports);
    for (std::size_t i = 0; i < rules.size(); ++i) {
      if (!rules[i].starts_with("allow")) continue;
      std::string without;
      for (std::size_t j = 0; j < rules.size(); ++j) without += j == i ? "# removed\n" : rules[j];
      auto c2 = testing::compile_text(std::string(kTopology) + without);
      REQUIRE(c2->ok());
      bool unchanged = verdicts(c2->policy, ports) == full;
      std::string at = "@" + std::to_string(12 + i) + ":1";
      auto codes = l.codes();
      bool reported = std::any_of(codes.begin(), codes.end(), [&](const std::string& s) {
        return s.ends_with(at) && (s.starts_with("W800") || s.starts_with("W802") || s.starts_with("W803") ||
                                   s.starts_with("W804"));
      });
      INFO(all << "rule " << i << ": " << rules[i]);
      CHECK(unchanged == reported);
      (reported ? flagged : kept)++;
    }
  }
  CHECK(flagged > 10);  // the generator exercises both sides
  CHECK(kept > 10);
}
