#include "npm_target.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "golden_support.h"
#include "nginx/nginx_target.h"
#include "npm_codes.h"
#include "test_support.h"

using namespace netpol;
using json = nlohmann::json;

namespace {

const char* kPolicy = R"(zone lan { bridge vmbr0 }
zone dmz { bridge vmbr1 }
zone vpn
address lan 198.18.1.0/24, 2001:db8:1::/64
address dmz 198.18.10.0/24
address vpn 198.18.8.0/24
host media in lan { vmid 100 }
host proxy in dmz { vmid 101 }
address media 198.18.1.20, 2001:db8:1::20
address proxy 198.18.10.10
service jellyfin tcp/8096
service grafana tcp/3000
publish jellyfin.example.test on proxy -> media:jellyfin { tls websocket from lan, vpn }
publish grafana.example.test on proxy -> media:grafana { from lan }
publish photos.example.test on proxy -> media:grafana { tls from vpn, lan, vpn }
)";

OutputSet emit(Compilation& c) {
  OutputSet out;
  emit_npm(c.policy, out, c.diags);
  return out;
}

std::vector<std::string> keys(const std::string& text, std::size_t index) {
  auto array = nlohmann::ordered_json::parse(text);  // keeps the file's key order
  std::vector<std::string> out;
  for (const auto& [k, v] : array.at(index).items()) out.push_back(k);
  return out;
}

}  // namespace

TEST_CASE("NPM proxy hosts: one create payload per published name, in policy order", "[npm]") {
  auto c = testing::compile_text(kPolicy);
  INFO(testing::rendered(*c));
  REQUIRE(c->ok());
  auto out = emit(*c);
  REQUIRE_FALSE(c->diags.has_errors());
  REQUIRE(out.count("npm/proxy-hosts.json"));
  const auto& text = out.at("npm/proxy-hosts.json");
  CHECK(text.back() == '\n');
  auto hosts = json::parse(text);
  REQUIRE(hosts.size() == 3);

  const auto& jf = hosts[0];
  // Fixed key order; nothing NPM's POST schema lacks; never advanced_config, ids or certificates.
  CHECK(keys(text, 0) == std::vector<std::string>{"domain_names", "forward_scheme", "forward_host", "forward_port",
                                             "ssl_forced", "hsts_enabled", "hsts_subdomains", "http2_support",
                                             "block_exploits", "caching_enabled", "allow_websocket_upgrade",
                                             "enabled", "locations", "meta"});
  CHECK(jf["domain_names"] == json::array({"jellyfin.example.test"}));
  CHECK(jf["forward_scheme"] == "http");
  CHECK(jf["forward_host"] == "198.18.1.20");  // the IPv4 address, never the IPv6 one
  CHECK(jf["forward_port"] == 8096);
  CHECK(jf["ssl_forced"] == true);
  CHECK(jf["block_exploits"] == true);
  CHECK(jf["allow_websocket_upgrade"] == true);
  CHECK(jf["locations"] == json::array());
  CHECK(jf["meta"] == json({{"netpol", {{"access_list", "netpol-lan+vpn"}}}}));

  const auto& gf = hosts[1];
  CHECK(gf["domain_names"] == json::array({"grafana.example.test"}));
  CHECK(gf["forward_port"] == 3000);
  CHECK(gf["ssl_forced"] == false);
  CHECK(gf["allow_websocket_upgrade"] == false);
  CHECK(gf["meta"]["netpol"]["access_list"] == "netpol-lan");

  // `from vpn, lan, vpn` is the same set as `from lan, vpn`: the same list.
  CHECK(hosts[2]["meta"]["netpol"]["access_list"] == "netpol-lan+vpn");
}

TEST_CASE("NPM access lists: one per distinct client set, allow the exact networks, then deny all", "[npm]") {
  auto c = testing::compile_text(kPolicy);
  REQUIRE(c->ok());
  auto out = emit(*c);
  auto lists = json::parse(out.at("npm/access-lists.json"));
  REQUIRE(lists.size() == 2);
  CHECK(keys(out.at("npm/access-lists.json"), 0) == std::vector<std::string>{"name", "satisfy_any", "pass_auth", "items", "clients"});
  CHECK(lists[0]["name"] == "netpol-lan+vpn");
  CHECK(lists[0]["satisfy_any"] == false);
  CHECK(lists[0]["pass_auth"] == false);
  CHECK(lists[0]["items"] == json::array());
  CHECK(lists[0]["clients"] == json::parse(R"([
    {"directive": "allow", "address": "198.18.1.0/24"},
    {"directive": "allow", "address": "198.18.8.0/24"},
    {"directive": "allow", "address": "2001:db8:1::/64"},
    {"directive": "deny", "address": "all"}])"));
  CHECK(lists[1]["name"] == "netpol-lan");
  CHECK(lists[1]["clients"].size() == 3);
}

TEST_CASE("A zone's access list leaves out its nested zones; a host adds its addresses", "[npm]") {
  auto c = testing::compile_text(R"(zone lan { bridge vmbr0 }
zone servers in lan
zone dmz { bridge vmbr1 }
address lan 198.18.1.0/24
address servers 198.18.1.16/28
address dmz 198.18.10.0/24
host media in servers { vmid 100 }
host proxy in dmz { vmid 101 }
host admin in dmz
address media 198.18.1.20
address proxy 198.18.10.10
address admin 198.18.10.50
service web tcp/8080
publish app.example.test on proxy -> media:web { from lan, admin }
)");
  INFO(testing::rendered(*c));
  REQUIRE(c->ok());
  auto out = emit(*c);
  auto lists = json::parse(out.at("npm/access-lists.json"));
  REQUIRE(lists.size() == 1);
  CHECK(lists[0]["name"] == "netpol-admin+lan");
  std::vector<std::string> addresses;
  for (const auto& client : lists[0]["clients"]) addresses.push_back(client["address"]);
  CHECK(addresses == std::vector<std::string>{"198.18.1.0/28", "198.18.1.32/27", "198.18.1.64/26", "198.18.1.128/25",
                                              "198.18.10.50/32", "all"});
}

TEST_CASE("Output is deterministic", "[npm]") {
  auto a = testing::compile_text(kPolicy);
  auto b = testing::compile_text(kPolicy);
  REQUIRE(a->ok());
  REQUIRE(b->ok());
  CHECK(emit(*a) == emit(*b));
}

TEST_CASE("Hostile published names are refused at the publish statement, once for both targets", "[npm][hostile]") {
  for (std::string hostile : {"jellyfin.example.test; return 200 x", "jellyfin.example.test\n",
                              "JELLYFIN.example.test", "x.example.test\"", "a..example.test", "example",
                              "*.*.example.test", "x.example.test/", "x.example.test}", "x.example.test#"}) {
    auto c = testing::compile_text(kPolicy);
    REQUIRE(c->ok());
    c->policy.publishes[0].domain = hostile;  // the parser refuses these; the target must too
    OutputSet out;
    emit_npm(c->policy, out, c->diags);
    emit_nginx(c->policy, out, c->diags);
    INFO(hostile);
    CHECK(testing::codes(*c) == std::vector<std::string>{"E720@13:1"});
    CHECK(out.empty());  // no partial files
    auto text = testing::rendered(*c);
    auto first_line = text.substr(0, text.find('\n'));  // the name is shown made safe, on one line
    CHECK(first_line.find("cannot be written to NPM or nginx") != std::string::npos);
  }
}

TEST_CASE("A backend without IPv4 is an error: NPM cannot take an IPv6 forward_host", "[npm]") {
  std::string policy = kPolicy;
  policy.replace(policy.find("address media 198.18.1.20, "), std::string("address media 198.18.1.20, ").size(),
                 "address media ");
  auto c = testing::compile_text(policy);
  INFO(testing::rendered(*c));
  REQUIRE(c->ok());
  auto out = emit(*c);
  CHECK(testing::codes(*c) == std::vector<std::string>{"E721@13:1", "E721@14:1", "E721@15:1"});
  CHECK(testing::rendered(*c).find("backend 'media' of 'jellyfin.example.test' has no IPv4 address") != std::string::npos);
  CHECK(out.empty());
}

TEST_CASE("A backend that is not one tcp port is an error", "[npm]") {
  auto c = testing::compile_text(kPolicy);
  REQUIRE(c->ok());
  c->policy.publishes[1].backend_port.range = {3000, 3001};
  auto out = emit(*c);
  CHECK(testing::codes(*c) == std::vector<std::string>{"E722@14:1"});
  CHECK(out.empty());
}

TEST_CASE("An access-list name over 64 characters is an error, not a truncation", "[npm]") {
  auto c = testing::compile_text(R"(zone aaaaaaaaaaaaaaaaaa
zone bbbbbbbbbbbbbbbbbb
zone cccccccccccccccccc
zone dddddddddddddddddd
zone dmz { bridge vmbr1 }
address aaaaaaaaaaaaaaaaaa 198.18.1.0/24
address bbbbbbbbbbbbbbbbbb 198.18.2.0/24
address cccccccccccccccccc 198.18.3.0/24
address dddddddddddddddddd 198.18.4.0/24
address dmz 198.18.10.0/24
host proxy in dmz { vmid 101 }
address proxy 198.18.10.10
service web tcp/8080
publish app.example.test on proxy -> proxy:web { from aaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbb, cccccccccccccccccc, dddddddddddddddddd }
publish two.example.test on proxy -> proxy:web { from aaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbb, cccccccccccccccccc }
)");
  INFO(testing::rendered(*c));
  REQUIRE(c->ok());
  auto out = emit(*c);
  CHECK(testing::codes(*c) == std::vector<std::string>{"E723@14:1"});  // 7 + 4 * 18 + 3 = 82 > 64; 63 is fine
  CHECK(testing::rendered(*c).find("name fewer zones") != std::string::npos);
}

TEST_CASE("A client network NPM's faulty IPv6 pattern refuses is an error", "[npm]") {
  std::string policy = kPolicy;
  policy.replace(policy.find("address vpn 198.18.8.0/24"), std::string("address vpn 198.18.8.0/24").size(),
                 "address vpn 198.18.8.0/24, ::ffff:198.19.0.0/120");
  auto c = testing::compile_text(policy);
  INFO(testing::rendered(*c));
  REQUIRE(c->ok());
  auto out = emit(*c);
  CHECK(testing::codes(*c) == std::vector<std::string>{"E724@13:1", "E724@15:1"});
  CHECK(testing::rendered(*c).find("::ffff:198.19.0.0/120") != std::string::npos);
}

TEST_CASE("Goldens: the homelab and lab policies", "[npm][golden]") {
  for (const char* name : {"homelab", "lab"}) {
    auto c = testing::compile_repo_file(std::string("policy/") + name + ".npol");
    INFO(testing::rendered(*c));
    REQUIRE(c->ok());
    auto out = emit(*c);
    REQUIRE_FALSE(c->diags.has_errors());
    std::map<std::string, std::string> files;
    for (const auto& [path, bytes] : out)
      if (path.starts_with("npm/")) files[path.substr(4)] = bytes;
    CHECK(files.size() == 2);
    auto diffs = testing::golden_differences(std::string(NETPOL_SOURCE_DIR) + "/tests/golden/npm/" + name, files);
    for (const auto& d : diffs) FAIL_CHECK(d << "\n(regenerate: NETPOL_UPDATE_GOLDEN=1 build/targets/npm/netpol_npm_tests)");
  }
}

TEST_CASE("W720: RFC 1918 clients outside `from` that reach NPM can forge X-Real-IP", "[npm][realip]") {
  auto c = testing::compile_text(R"(zone lan { bridge vmbr0 }
zone dmz { bridge vmbr1 }
zone vpn
address lan 192.168.1.0/24
address dmz 192.168.10.0/24
address vpn 10.8.0.0/24
host media in lan { vmid 100 }
host proxy in dmz { vmid 101 }
address media 192.168.1.20
address proxy 192.168.10.10
service jellyfin tcp/8096
service grafana tcp/3000
publish jellyfin.example.test on proxy -> media:jellyfin { tls from lan, vpn }
publish grafana.example.test on proxy -> media:grafana { tls from lan }
)");
  INFO(testing::rendered(*c));
  REQUIRE(c->ok());
  auto out = emit(*c);
  CHECK(testing::codes(*c) == std::vector<std::string>{"W720@14:1"});  // a warning: files are still written
  CHECK(out.count("npm/proxy-hosts.json"));
  auto text = testing::rendered(*c);
  CHECK(text.find("warning[W720]: NPM trusts X-Real-IP from RFC 1918 addresses: vpn (10.8.0.0/24) may reach the "
                  "proxy on tcp/443 and can forge X-Real-IP to pass the access list of 'grafana.example.test'") !=
        std::string::npos);

  // The same flows on test addresses (198.18.0.0/15): NPM does not trust them, nothing to say.
  auto lab = testing::compile_text(kPolicy);
  REQUIRE(lab->ok());
  emit(*lab);
  CHECK(testing::codes(*lab).empty());
}

TEST_CASE("W720 on the homelab: intranet and vpn can reach NPM on 443", "[npm][realip]") {
  auto c = testing::compile_repo_file("policy/homelab.npol");
  REQUIRE(c->ok());
  emit(*c);
  auto text = testing::rendered(*c);
  INFO(text);
  auto codes = testing::codes(*c);
  CHECK(std::count(codes.begin(), codes.end(), std::string("W720@74:1")) == 1);  // jellyfin: intranet
  CHECK(std::count(codes.begin(), codes.end(), std::string("W720@76:1")) == 1);  // grafana: intranet, vpn
  CHECK(text.find("intranet (192.168.1.16/28) may reach") != std::string::npos);
  CHECK(text.find("vpn (10.8.0.0/24)") != std::string::npos);
  auto lab = testing::compile_repo_file("policy/lab.npol");
  REQUIRE(lab->ok());
  emit(*lab);
  CHECK(testing::codes(*lab).empty());
}
