// Reads the emitted files back with a small OpenVPN option reader and checks them
// against the IR, with an evaluator written apart from the emitter: instead of address
// sets it asks, address by address, which zone or host the IR says an address belongs to.
#include "openvpn_reader.h"

#include <catch2/catch.hpp>
#include <set>

#include "openvpn_plan.h"
#include "openvpn_target.h"
#include "test_support.h"

using namespace netpol;
using namespace netpol::openvpn;

namespace {

Cidr cidr(const char* text) { return *parse_cidr(text).cidr; }
Cidr host_of(const Cidr& c) {
  Cidr h = c;
  h.prefix = h.max_prefix();
  return h;
}

// The last address of a network.
Cidr last_of(const Cidr& c) {
  Cidr h = host_of(c);
  for (int bit = c.prefix; bit < c.max_prefix(); ++bit)
    h.bytes[static_cast<std::size_t>(bit / 8)] |= static_cast<std::uint8_t>(0x80 >> (bit % 8));
  return h;
}

// address +1 / -1 (wrapping is harmless for sampling)
Cidr step(const Cidr& a, int delta) {
  Cidr h = a;
  int last = a.family == Family::v4 ? 3 : 15;
  for (int i = last; i >= 0; --i) {
    auto& b = h.bytes[static_cast<std::size_t>(i)];
    if (delta > 0) {
      if (++b != 0) break;
    } else {
      if (b-- != 0) break;
    }
  }
  return h;
}

// ---- the independent evaluator: where does an address belong, per the IR ----
struct Place {
  int zone = -1;  // the most specific zone network holding it
  int host = -1;  // the host with exactly this address
};

Place locate(const ir::Policy& p, const Cidr& addr) {
  Place place;
  int best = -1;
  for (std::size_t z = 0; z < p.zones.size(); ++z)
    for (const auto& n : p.zones[z].networks)
      if (n.contains(addr) && n.prefix > best) {
        best = n.prefix;
        place.zone = static_cast<int>(z);
      }
  for (std::size_t h = 0; h < p.hosts.size(); ++h)
    for (const auto& a : p.hosts[h].addresses)
      if (a == addr) place.host = static_cast<int>(h);
  return place;
}

// A host belongs to the zone it is declared in (its address lies in that zone, E302).
bool holds(const ir::Policy& p, const ir::Endpoint& e, const Cidr& addr, const std::vector<int>& except = {}) {
  auto place = locate(p, addr);
  if (e.kind == ir::Endpoint::Kind::host) return place.host == e.id;
  if (place.host >= 0 && std::find(except.begin(), except.end(), place.host) != except.end()) return false;
  return place.zone == e.id;
}

bool in_catch_all(const ir::Policy& p, const Cidr& addr) {
  auto place = locate(p, addr);
  return place.zone >= 0 && p.zones[static_cast<std::size_t>(place.zone)].catch_all;
}

bool routed_by(const std::vector<Cidr>& pushed, const Cidr& addr) {
  return std::any_of(pushed.begin(), pushed.end(), [&](const Cidr& n) { return n.contains(addr); });
}

// Addresses worth asking about: both ends of every network and host of the policy and of
// every pushed route, and their neighbours.
std::vector<Cidr> samples(const ir::Policy& p, const std::vector<Cidr>& pushed) {
  std::vector<Cidr> nets = pushed;
  for (const auto& z : p.zones) nets.insert(nets.end(), z.networks.begin(), z.networks.end());
  for (const auto& h : p.hosts) nets.insert(nets.end(), h.addresses.begin(), h.addresses.end());
  std::set<Cidr> out;
  for (const auto& n : nets) {
    for (const auto& a : {host_of(n), last_of(n)}) {
      out.insert(a);
      out.insert(step(a, 1));
      out.insert(step(a, -1));
    }
  }
  return {out.begin(), out.end()};
}

struct Files {
  std::unique_ptr<Compilation> c;
  OutputSet out;
};

Files compile(const std::string& repo_file) {
  Files f;
  f.c = testing::compile_repo_file(repo_file);
  REQUIRE(f.c->ok());
  emit_openvpn(f.c->policy, TargetOptions{}, f.out, f.c->diags);
  REQUIRE_FALSE(f.c->diags.has_errors());
  return f;
}

const Option* find(const Config& c, const std::string& name) {
  for (const auto& o : c.options)
    if (o.name == name) return &o;
  return nullptr;
}

// Every server.conf (and ccd file) of a compiled policy checked against the IR.
void check_against_ir(const std::string& repo_file) {
  auto f = compile(repo_file);
  const auto& p = f.c->policy;
  REQUIRE_FALSE(p.vpns.empty());
  for (std::size_t v = 0; v < p.vpns.size(); ++v) {
    const auto& vpn = p.vpns[v];
    std::string dir = p.vpns.size() == 1 ? "openvpn/" : "openvpn/" + vpn.name + "/";
    INFO(repo_file << " vpn " << vpn.name);
    REQUIRE(f.out.count(dir + "server.conf"));
    auto conf = parse_config(f.out.at(dir + "server.conf"));
    CHECK(conf.errors.empty());

    // Every option is plain words; only push carries one quoted argument.
    for (const auto& o : conf.options) {
      CHECK(plain_value(o.name));
      for (const auto& a : o.args)
        if (o.name != "push") CHECK(plain_value(a));
    }
    // Listener.
    REQUIRE(find(conf, "port"));
    CHECK(find(conf, "port")->args == std::vector<std::string>{std::to_string(vpn.listen.range.first)});
    CHECK(find(conf, "proto")->args == std::vector<std::string>{ir::to_string(vpn.listen.proto)});
    CHECK(find(conf, "dev")->args == std::vector<std::string>{"tun"});
    CHECK(find(conf, "topology")->args == std::vector<std::string>{"subnet"});
    // Pool: `server NET MASK` is the pool zone's IPv4 network.
    const auto& zone = p.zones[static_cast<std::size_t>(vpn.pool)];
    Cidr pool4;
    std::optional<Cidr> pool6;
    for (const auto& n : zone.networks) (n.family == Family::v4 ? pool4 : pool6.emplace()) = n;
    auto server = find(conf, "server");
    REQUIRE(server);
    REQUIRE(server->args.size() >= 2);
    CHECK(route_network({"route", server->args[0], server->args[1]}) == pool4);
    // Certificates come from the options, never invented.
    TargetOptions defaults;
    CHECK(find(conf, "ca")->args == std::vector<std::string>{defaults.openvpn_ca});
    CHECK(find(conf, "tls-crypt")->args == std::vector<std::string>{defaults.openvpn_tls_crypt});
    CHECK(find(conf, "dh")->args == std::vector<std::string>{"none"});

    // The pushed routes, address by address: routed exactly when a `route` endpoint holds
    // the address, it is of a family the pool has, and it is not on the pool itself.
    auto pushed = pushed_routes(conf);
    auto family_ok = [&](const Cidr& a) { return a.family == Family::v4 || pool6.has_value(); };
    auto on_pool = [&](const Cidr& a) { return pool4.contains(a) || (pool6 && pool6->contains(a)); };
    int routed_count = 0;
    for (const auto& a : samples(p, pushed)) {
      bool want = family_ok(a) && !on_pool(a) &&
                  std::any_of(vpn.routes.begin(), vpn.routes.end(), [&](const ir::Endpoint& r) { return holds(p, r, a); });
      INFO("address " << a.str(true));
      CHECK(routed_by(pushed, a) == want);
      routed_count += want;
    }
    CHECK((routed_count > 0) == !vpn.routes.empty());

    // Clients: every host of the pool zone has a ccd file with its fixed address, kept out
    // of the dynamic pool, and its own routes: what flows allow it beyond the server's.
    std::vector<int> clients;
    for (std::size_t h = 0; h < p.hosts.size(); ++h)
      if (p.hosts[h].zone == vpn.pool) clients.push_back(static_cast<int>(h));
    CHECK((find(conf, "client-config-dir") != nullptr) == !clients.empty());
    std::size_t ccd_files = 0;
    for (const auto& [path, text] : f.out) ccd_files += path.rfind(dir + "ccd/", 0) == 0;
    CHECK(ccd_files == clients.size());
    if (clients.empty()) {
      CHECK(server->args.size() == 2);
      CHECK(find(conf, "ifconfig-pool") == nullptr);
      continue;
    }
    REQUIRE(server->args.size() == 3);
    CHECK(server->args[2] == "nopool");
    auto pool_range = find(conf, "ifconfig-pool");
    REQUIRE(pool_range);
    REQUIRE(pool_range->args.size() == 3);
    auto first = v4_value(cidr(pool_range->args[0].c_str())), last = v4_value(cidr(pool_range->args[1].c_str()));
    CHECK(first >= v4_value(pool4) + 2);
    CHECK(last <= v4_value(last_of(pool4)) - 1);
    CHECK(first <= last);
    for (int h : clients) {
      const auto& host = p.hosts[static_cast<std::size_t>(h)];
      INFO("client " << host.name);
      REQUIRE(f.out.count(dir + "ccd/" + host.name));
      auto ccd = parse_config(f.out.at(dir + "ccd/" + host.name));
      CHECK(ccd.errors.empty());
      auto push4 = find(ccd, "ifconfig-push");
      REQUIRE(push4);
      Cidr v4 = *std::find_if(host.addresses.begin(), host.addresses.end(), [](const Cidr& a) { return a.family == Family::v4; });
      CHECK(push4->args == std::vector<std::string>{v4.str(true), v4_netmask(pool4.prefix)});
      CHECK((v4_value(v4) < first || v4_value(v4) > last));
      for (const auto& a : host.addresses) {
        if (a.family != Family::v6) continue;
        auto push6 = find(ccd, "ifconfig-ipv6-push");
        REQUIRE(push6);
        CHECK(push6->args.at(0) == a.str(true) + "/" + std::to_string(pool6->prefix));
      }
      auto own = pushed_routes(ccd);
      std::vector<Cidr> both = pushed;
      both.insert(both.end(), own.begin(), own.end());
      for (const auto& a : samples(p, both)) {
        bool server_wide = routed_by(pushed, a);
        bool allowed = false;
        for (const auto& fl : p.flows) {
          bool from_client = fl.source.endpoint == ir::Endpoint{ir::Endpoint::Kind::host, h} ||
                             (fl.source.endpoint == ir::Endpoint{ir::Endpoint::Kind::zone, host.zone} &&
                              std::find(fl.source.except_hosts.begin(), fl.source.except_hosts.end(), h) ==
                                  fl.source.except_hosts.end());
          if (from_client && holds(p, fl.destination.endpoint, a, fl.destination.except_hosts)) allowed = true;
        }
        bool want_own = allowed && !server_wide && family_ok(a) && !on_pool(a) && !in_catch_all(p, a);
        INFO("address " << a.str(true));
        CHECK(routed_by(own, a) == want_own);
      }
    }
  }
}

}  // namespace

TEST_CASE("split_words lexes like openvpn's parse_line", "[openvpn][reader]") {
  using W = std::vector<std::string>;
  CHECK(*split_words("port 1194") == W{"port", "1194"});
  CHECK(*split_words("  push \"route 198.18.10.0 255.255.255.0\"  ") == W{"push", "route 198.18.10.0 255.255.255.0"});
  CHECK(*split_words("key 'a b\\c'") == W{"key", "a b\\c"});
  CHECK(*split_words("key a\\ b \"x\\\"y\"") == W{"key", "a b", "x\"y"});
  CHECK(*split_words("port 1194 # the port") == W{"port", "1194"});
  CHECK(*split_words("port 1194 ;x") == W{"port", "1194"});
  CHECK(*split_words("ca /a#b") == W{"ca", "/a#b"});  // only a word's first character starts a comment
  CHECK(split_words("# all comment")->empty());
  std::string error;
  CHECK_FALSE(split_words("push \"route", &error));
  CHECK(error.find("quotation") != std::string::npos);
  CHECK_FALSE(split_words("ca x\\", &error));
}

TEST_CASE("parse_config keeps options, comments and errors apart", "[openvpn][reader]") {
  auto c = parse_config("# head\nport 1194\n\n; old style\n  proto udp\npush \"route 1\nserver 198.18.8.0 255.255.255.0\n");
  REQUIRE(c.options.size() == 3);
  CHECK(c.options[0].name == "port");
  CHECK(c.options[0].line == 2);
  CHECK(c.options[1].name == "proto");
  CHECK(c.options[2].line == 7);
  CHECK(c.comments == std::vector<std::string>{"head", "old style"});
  CHECK(c.errors.size() == 1);
}

TEST_CASE("route_network reads route and route-ipv6 words", "[openvpn][reader]") {
  CHECK(route_network({"route", "198.18.10.0", "255.255.255.0"})->str() == "198.18.10.0/24");
  CHECK(route_network({"route", "198.18.10.10"})->str() == "198.18.10.10/32");
  CHECK(route_network({"route-ipv6", "2001:db8:10::/64"})->str() == "2001:db8:10::/64");
  CHECK_FALSE(route_network({"route", "198.18.10.0", "255.0.255.0"}));   // not a contiguous mask
  CHECK_FALSE(route_network({"route", "198.18.10.1", "255.255.255.0"}));  // host bits set
  CHECK_FALSE(route_network({"redirect-gateway", "def1"}));
}

TEST_CASE("plain_value refuses what OpenVPN would read differently", "[openvpn][reader]") {
  CHECK(plain_value("/etc/openvpn/server/ca.crt"));
  for (const char* bad : {"", "a b", "a#b", "a;b", "a\"b", "a'b", "a\\b", "a\tb", "caf\xc3\xa9"}) {
    INFO(bad);
    CHECK_FALSE(plain_value(bad));
  }
}

TEST_CASE("server.conf read back: listener, pool and pushed routes are what the IR implies", "[openvpn][reader]") {
  check_against_ir("policy/lab.npol");
  check_against_ir("policy/homelab.npol");
  check_against_ir("tests/golden/openvpn/ipv6.npol");
  check_against_ir("tests/golden/openvpn/c2c.npol");
  check_against_ir("tests/golden/openvpn/multi.npol");
}

TEST_CASE("ccd files read back: fixed addresses and per-client routes are what the IR implies", "[openvpn][reader]") {
  check_against_ir("tests/lab/openvpn_clients.npol");
}

TEST_CASE("client-to-client appears exactly when the pool may reach itself on everything", "[openvpn][reader]") {
  auto c2c = compile("tests/golden/openvpn/c2c.npol");
  CHECK(find(parse_config(c2c.out.at("openvpn/server.conf")), "client-to-client"));
  auto lab = compile("policy/lab.npol");
  CHECK_FALSE(find(parse_config(lab.out.at("openvpn/server.conf")), "client-to-client"));
}
