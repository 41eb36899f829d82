#include "npm_plan.h"

#include <catch2/catch.hpp>
#include <functional>
#include <map>

#include "npm_target.h"
#include "test_support.h"

using namespace netpol;
using namespace netpol::npm;

namespace {

const char* kPolicy = R"(zone lan { bridge vmbr0 }
zone dmz { bridge vmbr1 }
zone vpn
address lan 198.18.1.0/24
address dmz 198.18.10.0/24
address vpn 198.18.8.0/24
host media in lan { vmid 100 }
host proxy in dmz { vmid 101 }
address media 198.18.1.20
address proxy 198.18.10.10
service jellyfin tcp/8096
service grafana tcp/3000
publish jellyfin.example.test on proxy -> media:jellyfin { tls websocket from lan, vpn }
publish grafana.example.test on proxy -> media:grafana { from lan }
)";

struct Files {
  json lists, hosts;
};

Files compiled(const std::string& policy = kPolicy) {
  auto c = testing::compile_text(policy);
  REQUIRE(c->ok());
  OutputSet out;
  emit_npm(c->policy, out, c->diags);
  REQUIRE_FALSE(c->diags.has_errors());
  return {json::parse(out.at("npm/access-lists.json")), json::parse(out.at("npm/proxy-hosts.json"))};
}

Desired desired_of(const Files& f) {
  std::vector<std::string> errors;
  auto d = read_desired(f.lists, f.hosts, errors);
  INFO(errors.size());
  REQUIRE(d);
  return *d;
}

json certificate(long id, const std::string& domain, const std::string& expires = "2030-01-01 00:00:00") {
  return {{"id", id}, {"nice_name", domain}, {"domain_names", json::array({domain})}, {"expires_on", expires}};
}

// What NPM would hold after running the plan (ids handed out from 100), as its API returns it.
State run(const Plan& plan, State state) {
  long next = 100;
  std::map<std::string, long> list_ids;
  for (const auto& l : state.access_lists) list_ids[l["name"]] = l["id"];
  auto drop = [](json& list, long id) {
    json kept = json::array();
    for (auto& x : list)
      if (x["id"] != id) kept.push_back(x);
    list = kept;
  };
  for (const auto& a : plan.actions) {
    json body = a.body;
    switch (a.step) {
      case Step::create_list:
        body["id"] = next++;
        list_ids[a.name] = body["id"];
        state.access_lists.push_back(body);
        break;
      case Step::update_list:
        for (auto& l : state.access_lists)
          if (l["id"] == a.id) l = body, l["id"] = a.id;
        break;
      case Step::create_host:
        body["id"] = next++;
        body["access_list_id"] = list_ids.at(a.access_list);
        body["advanced_config"] = "";
        body["meta"]["nginx_online"] = true;
        state.proxy_hosts.push_back(body);
        break;
      case Step::update_host:
        for (auto& h : state.proxy_hosts)
          if (h["id"] == a.id) h = body, h["id"] = a.id, h["access_list_id"] = list_ids.at(a.access_list);
        break;
      case Step::delete_host: drop(state.proxy_hosts, a.id); break;
      case Step::delete_list: drop(state.access_lists, a.id); break;
    }
  }
  return state;
}

std::vector<std::string> described(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& a : plan.actions) out.push_back(describe(a));
  return out;
}

json unmanaged_host(long id, const std::string& domain, long access_list = 0) {
  return {{"id", id},          {"domain_names", json::array({domain})}, {"forward_scheme", "http"},
          {"forward_host", "198.18.1.99"}, {"forward_port", 80}, {"access_list_id", access_list},
          {"certificate_id", 0}, {"meta", {{"nginx_online", true}}}, {"advanced_config", ""}};
}

}  // namespace

TEST_CASE("An empty NPM: lists first, then hosts; a second plan is empty", "[npm][plan]") {
  auto desired = desired_of(compiled());
  State state;
  state.certificates = json::array({certificate(7, "*.example.test")});
  auto plan = make_plan(desired, state);
  CHECK(plan.errors.empty());
  CHECK(described(plan) ==
        std::vector<std::string>{
            "create access list netpol-lan+vpn (3 clients)",
            "create access list netpol-lan (2 clients)",
            "create proxy host jellyfin.example.test -> http://198.18.1.20:8096, netpol-lan+vpn, certificate #7",
            "create proxy host grafana.example.test -> http://198.18.1.20:3000, netpol-lan, no TLS",
        });
  CHECK(plan.actions[2].body["certificate_id"] == 7);
  CHECK(plan.actions[3].body["certificate_id"] == 0);
  CHECK_FALSE(plan.actions[2].body.contains("access_list_id"));  // resolved when run

  auto after = run(plan, state);
  auto again = make_plan(desired, after);
  CHECK(again.actions.empty());
  CHECK(again.unchanged == 4);
  CHECK(again.errors.empty());
}

TEST_CASE("Unmanaged objects are left alone and counted", "[npm][plan]") {
  auto desired = desired_of(compiled());
  State state;
  state.certificates = json::array({certificate(7, "jellyfin.example.test")});
  state.proxy_hosts = json::array({unmanaged_host(1, "hand.example.test", 2)});
  state.access_lists = json::array({{{"id", 2}, {"name", "household"}, {"clients", json::array()}}});
  auto plan = make_plan(desired, state);
  CHECK(plan.errors.empty());
  CHECK(plan.unmanaged_hosts == 1);
  CHECK(plan.unmanaged_lists == 1);
  for (const auto& a : plan.actions) CHECK(a.id != 1);
  for (const auto& a : plan.actions) CHECK(a.id != 2);
}

TEST_CASE("A published name held by an unmanaged host is a conflict: nothing is applied", "[npm][plan]") {
  auto desired = desired_of(compiled());
  State state;
  state.certificates = json::array({certificate(7, "*.example.test")});
  state.proxy_hosts = json::array({unmanaged_host(1, "Grafana.example.test")});
  auto plan = make_plan(desired, state);
  REQUIRE(plan.errors.size() == 1);
  CHECK(plan.errors[0] == "grafana.example.test is already used by NPM proxy host #1, which netpol does not manage: "
                          "delete it in NPM (or publish another name)");
  state.proxy_hosts = json::array();
  state.redirection_hosts = json::array({unmanaged_host(4, "jellyfin.example.test")});
  plan = make_plan(desired, state);
  REQUIRE(plan.errors.size() == 1);
  CHECK(plan.errors[0].find("redirection host #4") != std::string::npos);
}

TEST_CASE("TLS needs a certificate in NPM that covers the name", "[npm][plan]") {
  auto desired = desired_of(compiled());
  State state;
  state.certificates = json::array({certificate(3, "other.example.test"), certificate(4, "*.sub.example.test")});
  auto plan = make_plan(desired, state);
  REQUIRE(plan.errors.size() == 1);
  CHECK(plan.errors[0].find("no certificate in NPM covers jellyfin.example.test") == 0);

  // Several cover it: the one expiring last; a host keeps the one it has while it still covers.
  state.certificates = json::array({certificate(3, "jellyfin.example.test", "2031-01-01 00:00:00"),
                                    certificate(5, "*.example.test", "2032-01-01 00:00:00")});
  plan = make_plan(desired, state);
  CHECK(plan.errors.empty());
  CHECK(plan.actions[2].body["certificate_id"] == 5);
  auto after = run(plan, state);
  for (auto& h : after.proxy_hosts)
    if (h["domain_names"][0] == "jellyfin.example.test") h["certificate_id"] = 3;
  CHECK(make_plan(desired, after).actions.empty());
}

TEST_CASE("certificate_covers: exact names and one-label wildcards", "[npm][plan]") {
  CHECK(certificate_covers("a.example.test", "a.example.test"));
  CHECK(certificate_covers("A.Example.test", "a.example.test"));
  CHECK(certificate_covers("*.example.test", "a.example.test"));
  CHECK_FALSE(certificate_covers("*.example.test", "a.b.example.test"));
  CHECK_FALSE(certificate_covers("*.example.test", "example.test"));
  CHECK(certificate_covers("*.example.test", "*.example.test"));
  CHECK_FALSE(certificate_covers("a.example.test", "*.example.test"));
}

TEST_CASE("Drift is repaired field by field; removed names are deleted last", "[npm][plan]") {
  auto desired = desired_of(compiled());
  State state;
  state.certificates = json::array({certificate(7, "*.example.test")});
  auto after = run(make_plan(desired, state), state);

  // By hand: grafana's port changed, a custom location added, a list's clients reordered.
  for (auto& h : after.proxy_hosts)
    if (h["domain_names"][0] == "grafana.example.test") {
      h["forward_port"] = 3001;
      h["locations"] = json::array({{{"path", "/x"}, {"forward_host", "198.18.1.9"}}});
      h["meta"]["nginx_online"] = true;
      h["meta"]["letsencrypt_agree"] = false;
    }
  auto& clients = after.access_lists[0]["clients"];
  std::swap(clients[0], clients[1]);
  auto plan = make_plan(desired, after);
  CHECK(described(plan) == std::vector<std::string>{
                               "update access list netpol-lan+vpn (#100): clients",
                               "update proxy host grafana.example.test (#103): forward_port, locations",
                           });
  // The update keeps what NPM put in meta, but not nginx's verdict, and refreshes netpol's mark.
  CHECK(plan.actions[1].body["meta"] == json({{"letsencrypt_agree", false}, {"netpol", {{"access_list", "netpol-lan"}}}}));

  // Grafana is no longer published: its host goes, then its list.
  std::string policy = kPolicy;
  policy.erase(policy.find("publish grafana"));
  auto smaller = desired_of(compiled(policy));
  plan = make_plan(smaller, after);
  CHECK(described(plan) == std::vector<std::string>{
                               "update access list netpol-lan+vpn (#100): clients",
                               "delete proxy host grafana.example.test (#103): no longer published",
                               "delete access list netpol-lan (#101): no longer used by the policy",
                           });
}

TEST_CASE("A netpol list still used by a host netpol does not manage is kept", "[npm][plan]") {
  auto desired = desired_of(compiled());
  State state;
  state.certificates = json::array({certificate(7, "*.example.test")});
  state.access_lists = json::array({{{"id", 9}, {"name", "netpol-old"}, {"clients", json::array()}}});
  state.proxy_hosts = json::array({unmanaged_host(1, "hand.example.test", 9)});
  auto plan = make_plan(desired, state);
  for (const auto& a : plan.actions) CHECK(a.step != Step::delete_list);
  REQUIRE(plan.notes.size() == 1);
  CHECK(plan.notes[0] == "kept access list netpol-old (#9): 1 proxy host that netpol does not manage use it");
}

TEST_CASE("A managed host whose nginx config failed is re-applied", "[npm][plan]") {
  auto desired = desired_of(compiled());
  State state;
  state.certificates = json::array({certificate(7, "*.example.test")});
  auto after = run(make_plan(desired, state), state);
  after.proxy_hosts[0]["meta"]["nginx_online"] = false;
  after.proxy_hosts[0]["meta"]["nginx_err"] = "boom";
  auto plan = make_plan(desired, after);
  CHECK(described(plan) == std::vector<std::string>{"update proxy host jellyfin.example.test (#102): nginx_online"});
}

TEST_CASE("Hand-edited files are refused before anything is sent", "[npm][plan][hostile]") {
  auto base = compiled();
  struct Case {
    const char* what;
    std::function<void(Files&)> edit;
    const char* message;
  };
  std::vector<Case> cases = {
      {"forward_host injection", [](Files& f) { f.hosts[0]["forward_host"] = "198.18.1.20\"; return 200 \"x"; },
       "forward_host '198.18.1.20\"; return 200 \"x' is not an IPv4 address or host name"},
      {"advanced_config", [](Files& f) { f.hosts[0]["advanced_config"] = "allow all;"; },
       "'advanced_config' is refused"},
      {"location", [](Files& f) { f.hosts[0]["locations"] = json::array({{{"path", "/x { } location /y"}}}); },
       "custom location '/x { } location /y' is refused (and its path is unsafe)"},
      {"domain", [](Files& f) { f.hosts[1]["domain_names"][0] = "grafana.example.test;"; },
       "domain name 'grafana.example.test;' is not a lower-case DNS name"},
      {"newline", [](Files& f) { f.hosts[1]["domain_names"][0] = "a.example.test\nserver {"; },
       "domain name 'a.example.test?server {' is not"},
      {"access_list_id", [](Files& f) { f.hosts[0]["access_list_id"] = 0; }, "'access_list_id' is refused"},
      {"unknown list", [](Files& f) { f.hosts[0]["meta"]["netpol"]["access_list"] = "netpol-nobody"; },
       "access list 'netpol-nobody' is not in access-lists.json"},
      {"address", [](Files& f) { f.lists[0]["clients"][0]["address"] = "198.18.1.0/24; allow all"; },
       "address '198.18.1.0/24; allow all' is not a canonical network NPM accepts"},
      {"list name", [](Files& f) { f.lists[0]["name"] = "household"; }, "is not a netpol access-list name"},
      {"basic auth", [](Files& f) { f.lists[0]["items"] = json::array({{{"username", "u"}, {"password", "p"}}}); },
       "'items' must be empty"},
      {"port", [](Files& f) { f.hosts[0]["forward_port"] = "8096"; }, "'forward_port' must be an integer 1-65535"},
      {"twice", [](Files& f) { f.hosts[1]["domain_names"][0] = "jellyfin.example.test"; }, "is published twice"},
  };
  for (const auto& test : cases) {
    auto files = base;
    test.edit(files);
    std::vector<std::string> errors;
    auto d = read_desired(files.lists, files.hosts, errors);
    INFO(test.what);
    CHECK_FALSE(d);
    bool found = false;
    for (const auto& e : errors) {
      UNSCOPED_INFO(e);
      found = found || e.find(test.message) != std::string::npos;
    }
    CHECK(found);
  }
}
