// LibnlNetlink against the real kernel, only in namespaces the test makes (never the root one),
// and FakeNetlink's model of the same behaviour.
#include "netlink.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "fake_netlink.h"
#include "netns.h"

using namespace netpol::live;

namespace {

std::string test_name(const std::string& suffix) { return "nv-t" + std::to_string(::getpid()) + "-" + suffix; }

struct TestNetns {
  std::string name;
  explicit TestNetns(const std::string& suffix) : name(test_name(suffix)) { netns_add(name); }
  ~TestNetns() { netns_delete(name); }  // takes the links in it along
};

std::vector<std::string> ipv4_only(std::vector<std::string> routes) {
  routes.erase(std::remove_if(routes.begin(), routes.end(), [](const std::string& r) { return r.find(':') != std::string::npos; }),
               routes.end());
  return routes;
}

// Carrier on a bridge follows its ports a moment later: poll, at most 3 s.
bool becomes_up(Netlink& netlink, const std::string& ns, const std::string& link) {
  for (int i = 0; i < 150; ++i) {
    if (netlink.link_is_up(ns, link)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

sockaddr_in endpoint(const char* address, int port) {
  sockaddr_in where{};
  where.sin_family = AF_INET;
  where.sin_port = htons(static_cast<uint16_t>(port));
  REQUIRE(::inet_pton(AF_INET, address, &where.sin_addr) == 1);
  return where;
}

}  // namespace

TEST_CASE("a bridge joins two namespaces by veth pairs and TCP crosses it", "[netlink]") {
  TestNetns node("node"), a("a"), b("b");
  auto netlink = make_libnl_netlink();
  netlink->add_bridge(node.name, "br0");
  netlink->add_veth(node.name, "va", a.name, "eth0");
  netlink->add_veth(node.name, "vb", b.name, "eth0");
  CHECK(netlink->link_names(node.name) == std::vector<std::string>{"br0", "lo", "va", "vb"});
  CHECK(netlink->link_names(a.name) == std::vector<std::string>{"eth0", "lo"});
  netlink->set_master(node.name, "va", "br0");
  netlink->set_master(node.name, "vb", "br0");

  netlink->set_up(node.name, "va");
  CHECK_FALSE(netlink->link_is_up(node.name, "va"));  // no carrier while the peer is down
  for (const auto& ns : {a.name, b.name}) {
    netlink->set_up(ns, "lo");
    netlink->set_up(ns, "eth0");
  }
  netlink->set_up(node.name, "vb");
  netlink->set_up(node.name, "br0");
  CHECK(becomes_up(*netlink, node.name, "va"));
  CHECK(becomes_up(*netlink, node.name, "br0"));
  CHECK(netlink->link_is_up(a.name, "eth0"));
  CHECK(netlink->link_is_up(a.name, "lo"));
  CHECK_FALSE(netlink->link_is_up(a.name, "nothere"));

  netlink->add_address(a.name, "eth0", "198.18.7.1/24");
  netlink->add_address(b.name, "eth0", "198.18.7.2/24");
  netlink->add_route(b.name, "default", "198.18.7.1", "");
  netlink->add_route(a.name, "198.18.9.0/24", "", "eth0");  // on-link
  // IPv4 only: an up link also has fe80::/64 where IPv6 is enabled.
  CHECK(ipv4_only(netlink->routes_via(b.name, "eth0")) == std::vector<std::string>{"0.0.0.0/0", "198.18.7.0/24"});
  CHECK(ipv4_only(netlink->routes_via(a.name, "eth0")) == std::vector<std::string>{"198.18.7.0/24", "198.18.9.0/24"});
  CHECK(netlink->routes_via(a.name, "lo").empty());
  CHECK(netlink->routes_via(a.name, "nothere").empty());

  // A listener in b, a client in a: the sockets keep the namespace they were opened in.
  Fd listener, client;
  run_in_netns(b.name, [&] { listener.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); });
  REQUIRE(listener.fd >= 0);
  const int one = 1;
  ::setsockopt(listener.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in server = endpoint("198.18.7.2", 7007);
  REQUIRE(::bind(listener.fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) == 0);
  REQUIRE(::listen(listener.fd, 1) == 0);
  run_in_netns(a.name, [&] { client.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); });
  REQUIRE(client.fd >= 0);
  const timeval timeout{3, 0};  // bounds connect() too
  ::setsockopt(client.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  REQUIRE(::connect(client.fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) == 0);
  REQUIRE(::send(client.fd, "hello", 5, 0) == 5);
  pollfd ready{listener.fd, POLLIN, 0};
  REQUIRE(::poll(&ready, 1, 3000) == 1);
  Fd accepted;
  sockaddr_in peer{};
  socklen_t peer_size = sizeof peer;
  accepted.fd = ::accept(listener.fd, reinterpret_cast<sockaddr*>(&peer), &peer_size);
  REQUIRE(accepted.fd >= 0);
  char peer_text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &peer.sin_addr, peer_text, sizeof peer_text);
  CHECK(std::string(peer_text) == "198.18.7.1");
  char received[8] = {};
  ready = pollfd{accepted.fd, POLLIN, 0};
  REQUIRE(::poll(&ready, 1, 3000) == 1);
  CHECK(::recv(accepted.fd, received, sizeof received, 0) == 5);
  CHECK(std::string(received) == "hello");

  netlink->delete_link(node.name, "va");
  CHECK_FALSE(netlink->link_exists(node.name, "va"));
  CHECK_FALSE(netlink->link_exists(a.name, "eth0"));  // the peer goes with it
  CHECK(netlink->link_exists(node.name, "vb"));
  CHECK_NOTHROW(netlink->delete_link(node.name, "va"));
}

TEST_CASE("libnl errors name the operation and the names and the cause", "[netlink]") {
  TestNetns ns("e");
  auto netlink = make_libnl_netlink();
  netlink->add_bridge(ns.name, "br0");
  CHECK_THROWS_WITH(netlink->add_bridge(ns.name, "br0"),
                    Catch::Contains("add bridge br0") && Catch::Contains(ns.name) && Catch::Contains("exists"));
  CHECK_THROWS_WITH(netlink->set_master(ns.name, "lo", "nobridge"), Catch::Contains("nobridge"));
  CHECK_THROWS_WITH(netlink->set_up(ns.name, "nothere"), Catch::Contains("nothere"));
  CHECK_THROWS_WITH(netlink->add_address(ns.name, "br0", "198.18.7.1"), Catch::Contains("CIDR"));
  CHECK_THROWS_AS(netlink->add_address(ns.name, "br0", "198.18.7.1/33"), ToolError);
  CHECK_THROWS_AS(netlink->add_address(ns.name, "br0", "nonsense/24"), ToolError);
  netlink->add_address(ns.name, "br0", "198.18.7.1/24");
  CHECK_THROWS_AS(netlink->add_address(ns.name, "br0", "198.18.7.1/24"), ToolError);  // exists
  // br0 is down: the kernel refuses a gateway it cannot reach.
  CHECK_THROWS_WITH(netlink->add_route(ns.name, "default", "198.18.7.254", ""), Catch::Contains("add route default"));
  CHECK_THROWS_AS(netlink->add_route(ns.name, "default", "", ""), ToolError);
  CHECK_THROWS_AS(netlink->add_bridge(ns.name, "name-is-too-long"), ToolError);  // 16 chars
  CHECK_THROWS_AS(netlink->add_bridge(ns.name, "a/b"), ToolError);
  CHECK_THROWS_AS(netlink->link_names(test_name("missing")), ToolError);
  CHECK(netlink->link_names(ns.name) == std::vector<std::string>{"br0", "lo"});
}

TEST_CASE("a veth pair can stay in one namespace", "[netlink]") {
  TestNetns ns("one");
  auto netlink = make_libnl_netlink();
  netlink->add_veth(ns.name, "x0", ns.name, "x1");
  CHECK(netlink->link_names(ns.name) == std::vector<std::string>{"lo", "x0", "x1"});
  netlink->set_up(ns.name, "x0");
  netlink->set_up(ns.name, "x1");
  CHECK(becomes_up(*netlink, ns.name, "x0"));
  netlink->delete_link(ns.name, "x1");
  CHECK(netlink->link_names(ns.name) == std::vector<std::string>{"lo"});
}

TEST_CASE("FakeNetlink records operations and answers like the kernel", "[fake]") {
  FakeNetlink fake;
  fake.add_bridge("node", "br0");
  fake.add_veth("node", "va", "a", "eth0");
  fake.set_master("node", "va", "br0");
  fake.set_up("node", "va");
  CHECK_FALSE(fake.link_is_up("node", "va"));  // peer down
  fake.set_up("a", "eth0");
  CHECK(fake.link_is_up("node", "va"));
  CHECK_FALSE(fake.link_is_up("node", "br0"));  // bridge itself down
  fake.set_up("node", "br0");
  CHECK(fake.link_is_up("node", "br0"));
  fake.add_address("a", "eth0", "198.18.7.1/24");
  fake.add_route("a", "default", "198.18.7.254", "");
  fake.add_route("a", "198.18.9.0/24", "", "eth0");
  CHECK(fake.operations() == std::vector<std::string>{
                                 "bridge ns:node/br0", "veth ns:node/va ns:a/eth0", "master ns:node/va br0",
                                 "up ns:node/va", "up ns:a/eth0", "up ns:node/br0", "addr ns:a/eth0 198.18.7.1/24",
                                 "route ns:a default via 198.18.7.254", "route ns:a 198.18.9.0/24 dev eth0"});
  CHECK(fake.routes_via("a", "eth0") == std::vector<std::string>{"0.0.0.0/0", "198.18.7.0/24", "198.18.9.0/24"});
  CHECK(fake.addresses("a", "eth0") == std::vector<std::string>{"198.18.7.1/24"});
  CHECK(fake.link_names("node") == std::vector<std::string>{"br0", "lo", "va"});
  CHECK(fake.namespaces() == std::vector<std::string>{"a", "node"});

  fake.delete_link("a", "eth0");
  CHECK_FALSE(fake.link_exists("node", "va"));
  CHECK(fake.routes_via("a", "eth0").empty());
  CHECK_FALSE(fake.link_is_up("node", "br0"));  // its only port is gone
  CHECK(fake.operations().back() == "delete ns:a/eth0");
  CHECK_NOTHROW(fake.delete_link("a", "eth0"));
}

TEST_CASE("FakeNetlink refuses what the kernel refuses", "[fake]") {
  FakeNetlink fake;
  fake.add_veth("", "v0", "b", "eth0");
  CHECK_THROWS_AS(fake.add_veth("", "v0", "c", "x"), ToolError);
  CHECK_THROWS_AS(fake.add_veth("", "v1", "b", "eth0"), ToolError);
  CHECK_THROWS_AS(fake.set_master("", "v0", "nobridge"), ToolError);
  CHECK_THROWS_AS(fake.set_up("", "nothere"), ToolError);
  CHECK_THROWS_AS(fake.add_address("b", "eth0", "198.18.7.1"), ToolError);
  fake.add_address("b", "eth0", "198.18.7.1/24");
  CHECK_THROWS_AS(fake.add_address("b", "eth0", "198.18.7.1/24"), ToolError);
  CHECK_THROWS_AS(fake.add_route("b", "default", "198.18.7.254", ""), ToolError);  // eth0 down
  fake.set_up("b", "eth0");
  CHECK_THROWS_AS(fake.add_route("b", "default", "198.18.8.254", ""), ToolError);  // not on a subnet
  CHECK_THROWS_AS(fake.add_route("b", "198.18.9.1/24", "", "eth0"), ToolError);    // host bits
  fake.add_route("b", "2001:db8::/32", "", "eth0");
  CHECK(fake.routes_via("b", "eth0") == std::vector<std::string>{"198.18.7.0/24", "2001:db8::/32"});
  CHECK_THROWS_AS(fake.delete_link("b", "lo"), ToolError);
  CHECK(fake.operations().size() == 4);  // veth, addr, up, route: failures are not recorded
}
