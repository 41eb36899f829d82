// The prober against the real kernel: every test case runs in a network namespace of its own (made
// here, whatever launched the test), with only lo, and firewall rules set there with the real nft.
#include "probe.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "listener.h"
#include "token.h"

using namespace netpol::live;
using namespace std::chrono_literals;

namespace {

// Moves the calling thread into a new network namespace (lo up) and back out on destruction, so
// that what a test does to the firewall never reaches the namespace it was started in.
class FreshNetns {
 public:
  FreshNetns() : original_(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
    REQUIRE(original_ >= 0);
    REQUIRE(unshare(CLONE_NEWNET) == 0);
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    ifreq request{};
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    REQUIRE(ioctl(fd, SIOCGIFFLAGS, &request) == 0);
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    REQUIRE(ioctl(fd, SIOCSIFFLAGS, &request) == 0);
    close(fd);
  }
  ~FreshNetns() {
    if (setns(original_, CLONE_NEWNET) != 0) std::perror("setns back");
    close(original_);
  }
  FreshNetns(const FreshNetns&) = delete;
  FreshNetns& operator=(const FreshNetns&) = delete;

 private:
  int original_;
};

// Runs a shell command (nft, ip) in the calling thread's namespace; true when it exits 0.
bool run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

void nft(const std::string& ruleset) {
  FILE* pipe = popen("nft -f -", "w");
  REQUIRE(pipe != nullptr);
  std::fputs(ruleset.c_str(), pipe);
  REQUIRE(pclose(pipe) == 0);
}

// An input-hook table whose one rule acts on the given destination port.
void input_rule(const std::string& family, const std::string& rule) {
  nft("table " + family + " probe_test {\n chain input {\n  type filter hook input priority 0; policy accept;\n  " +
      rule + "\n }\n}\n");
}

Probe probe(L4 proto, const std::string& destination, std::uint16_t port, std::size_t id = 0) {
  Probe p;
  p.id = id;
  p.proto = proto;
  p.destination = destination;
  p.port = port;
  p.token = make_token();
  return p;
}

ProberOptions quick() {
  ProberOptions options;
  options.timeout = 300ms;
  options.total = 5s;
  return options;
}

ProbeResult one(const Probe& p, const ProberOptions& options = quick()) {
  const auto results = run_probes({p}, options);
  REQUIRE(results.size() == 1);
  return results[0];
}

}  // namespace

TEST_CASE("tcp to a listener: connected, and the listener sees the token") {
  FreshNetns ns;
  TokenLog log;
  auto listener = Listener::start({{"127.0.0.1", L4::tcp, 7001}, {"::1", L4::tcp, 7001}}, log);
  for (const char* destination : {"127.0.0.1", "::1"}) {
    const Probe p = probe(L4::tcp, destination, 7001, 42);
    const auto result = one(p);
    CHECK(result.id == 42);
    CHECK(result.reply == Reply::connected);
    CHECK(result.source_port != 0);
    CHECK(result.elapsed_ms < 300);
    for (int i = 0; i < 100 && !log.seen(p.token); ++i) std::this_thread::sleep_for(10ms);
    CHECK(log.seen(p.token));
  }
}

TEST_CASE("tcp to a closed port: reset") {
  FreshNetns ns;
  for (const char* destination : {"127.0.0.1", "::1"}) {
    const auto result = one(probe(L4::tcp, destination, 7002));
    CHECK(result.reply == Reply::reset);
    CHECK(result.error == ECONNREFUSED);
  }
}

TEST_CASE("a dropped SYN: timeout, after the per-probe timeout") {
  FreshNetns ns;
  input_rule("inet", "tcp dport 7003 drop");
  const auto result = one(probe(L4::tcp, "127.0.0.1", 7003));
  CHECK(result.reply == Reply::timeout);
  CHECK(result.elapsed_ms >= 290);
  CHECK(result.elapsed_ms < 1000);
}

TEST_CASE("a firewall's tcp reset in front of a listener: reset, and the listener saw nothing") {
  FreshNetns ns;
  TokenLog log;
  auto listener = Listener::start({{"127.0.0.1", L4::tcp, 7004}}, log);
  input_rule("inet", "tcp dport 7004 reject with tcp reset");
  const Probe p = probe(L4::tcp, "127.0.0.1", 7004);
  CHECK(one(p).reply == Reply::reset);
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(log.seen(p.token));
}

TEST_CASE("an ICMP admin-prohibited reject: unreachable") {
  FreshNetns ns;
  SECTION("ip: icmp type admin-prohibited") {
    input_rule("ip", "tcp dport 7005 reject with icmp type admin-prohibited");
    const auto result = one(probe(L4::tcp, "127.0.0.1", 7005));
    CHECK(result.reply == Reply::unreachable);
    CHECK(result.error == EHOSTUNREACH);
  }
  SECTION("ip6: icmpv6 type admin-prohibited") {
    input_rule("ip6", "tcp dport 7005 reject with icmpv6 type admin-prohibited");
    const auto result = one(probe(L4::tcp, "::1", 7005));
    CHECK(result.reply == Reply::unreachable);
    CHECK(result.error == EACCES);
  }
  SECTION("inet: icmpx type admin-prohibited, tcp and udp, both families") {
    input_rule("inet", "th dport 7005 reject with icmpx type admin-prohibited");
    for (L4 proto : {L4::tcp, L4::udp})
      for (const char* destination : {"127.0.0.1", "::1"}) {
        INFO(to_string(proto) << " " << destination);
        CHECK(one(probe(proto, destination, 7005)).reply == Reply::unreachable);
      }
  }
}

TEST_CASE("udp to a listener: udp_reply, for DNS, OpenVPN and plain probes") {
  FreshNetns ns;
  TokenLog log;
  std::vector<ListenSpec> specs;
  for (std::uint16_t port : std::initializer_list<std::uint16_t>{53, 1194, 7006}) {
    specs.push_back({"0.0.0.0", L4::udp, port});
    specs.push_back({"::", L4::udp, port});
  }
  auto listener = Listener::start(specs, log);
  // 127.0.0.2 as well: the reply must come from the address probed, or a connected socket drops it.
  for (const char* destination : {"127.0.0.1", "127.0.0.2", "::1"})
    for (std::uint16_t port : std::initializer_list<std::uint16_t>{53, 1194, 7006}) {
      INFO(destination << " udp/" << port);
      const Probe p = probe(L4::udp, destination, port);
      const auto result = one(p);
      CHECK(result.reply == Reply::udp_reply);
      CHECK(result.source_port != 0);
      CHECK(log.seen(p.token));
    }
}

TEST_CASE("udp to a closed port: reset (port unreachable); dropped: timeout") {
  FreshNetns ns;
  for (const char* destination : {"127.0.0.1", "::1"}) {
    const auto result = one(probe(L4::udp, destination, 7007));
    CHECK(result.reply == Reply::reset);
    CHECK(result.error == ECONNREFUSED);
  }
  input_rule("inet", "udp dport 7008 drop");
  CHECK(one(probe(L4::udp, "127.0.0.1", 7008)).reply == Reply::timeout);
}

TEST_CASE("local failures are errors, never evidence") {
  FreshNetns ns;
  SECTION("no route") { CHECK(one(probe(L4::tcp, "198.18.0.9", 7009)).reply == Reply::error); }
  SECTION("a source address this host does not have") {
    Probe p = probe(L4::tcp, "127.0.0.1", 7009);
    p.source_address = "198.18.0.1";
    const auto result = one(p);
    CHECK(result.reply == Reply::error);
    CHECK(result.error == EADDRNOTAVAIL);
  }
  SECTION("not an address") { CHECK(one(probe(L4::udp, "vm-web", 7009)).reply == Reply::error); }
}

TEST_CASE("a source address is bound before the probe leaves") {
  FreshNetns ns;
  REQUIRE(run("ip addr add 198.18.0.1/32 dev lo"));
  REQUIRE(run("ip addr add 198.18.0.2/32 dev lo"));
  TokenLog log;
  auto listener = Listener::start({{"198.18.0.2", L4::tcp, 7010}}, log);
  input_rule("ip", "ip saddr != 198.18.0.1 tcp dport 7010 reject with tcp reset");
  Probe p = probe(L4::tcp, "198.18.0.2", 7010);
  CHECK(one(p).reply == Reply::reset);  // the kernel's choice of source is refused...
  p.source_address = "198.18.0.1";
  CHECK(one(p).reply == Reply::connected);  // ...the bound one passes
}

TEST_CASE("the rate bounds how fast probes start") {
  FreshNetns ns;
  std::vector<Probe> probes;
  for (std::size_t i = 0; i < 41; ++i) probes.push_back(probe(L4::tcp, "127.0.0.1", 7011, i));
  ProberOptions options = quick();
  options.rate = 200;  // 41 probes: the last may start 200 ms after the first, not before
  const auto begin = std::chrono::steady_clock::now();
  const auto results = run_probes(probes, options);
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  REQUIRE(results.size() == probes.size());
  for (const auto& r : results) CHECK(r.reply == Reply::reset);
  CHECK(elapsed >= 195ms);
  CHECK(elapsed < 1500ms);
}

TEST_CASE("a plan that cannot finish within the total ends by it") {
  FreshNetns ns;
  input_rule("inet", "tcp dport 7012 drop");
  std::vector<Probe> probes;
  for (std::size_t i = 0; i < 100; ++i) probes.push_back(probe(L4::tcp, "127.0.0.1", 7012, 1000 + i));
  ProberOptions options;
  options.timeout = 400ms;
  options.total = 600ms;
  options.max_in_flight = 10;  // 10 at a time, 400 ms each: 4 s to finish, cut at 600 ms
  const auto begin = std::chrono::steady_clock::now();
  const auto results = run_probes(probes, options);
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  CHECK(elapsed >= 590ms);
  CHECK(elapsed < 1200ms);
  REQUIRE(results.size() == probes.size());
  std::size_t timeouts = 0, errors = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    CHECK(results[i].id == 1000 + i);
    if (results[i].reply == Reply::timeout) ++timeouts;
    if (results[i].reply == Reply::error) ++errors;
  }
  CHECK(timeouts == 20);  // the first ten timed out at 400 ms, the next ten were cut off at 600 ms
  CHECK(errors == 80);    // never started
  CHECK(results.back().error == ECANCELED);
}

TEST_CASE("1,200 probes at once, every answer right") {
  FreshNetns ns;
  TokenLog log;
  std::vector<ListenSpec> specs;
  for (std::uint16_t port : std::initializer_list<std::uint16_t>{7100, 7101, 7102, 7103}) specs.push_back({"127.0.0.1", L4::tcp, port});
  specs.push_back({"127.0.0.1", L4::udp, 7104});
  specs.push_back({"::1", L4::tcp, 7100});
  auto listener = Listener::start(specs, log);
  input_rule("inet", "tcp dport 7105 drop");
  std::vector<Probe> probes;
  std::vector<Reply> expected;
  for (std::size_t i = 0; i < 1200; ++i) {
    const std::size_t kind = i % 12;
    if (kind < 6) {
      probes.push_back(probe(L4::tcp, "127.0.0.1", static_cast<std::uint16_t>(7100 + i % 4), i));
      expected.push_back(Reply::connected);
    } else if (kind < 8) {
      probes.push_back(probe(L4::tcp, "::1", 7100, i));
      expected.push_back(Reply::connected);
    } else if (kind < 10) {
      probes.push_back(probe(L4::tcp, kind == 8 ? "127.0.0.1" : "::1", 7200, i));  // closed
      expected.push_back(Reply::reset);
    } else if (kind == 10) {
      probes.push_back(probe(L4::tcp, "127.0.0.1", 7105, i));  // dropped
      expected.push_back(Reply::timeout);
    } else {
      probes.push_back(probe(L4::udp, "127.0.0.1", 7104, i));
      expected.push_back(Reply::udp_reply);
    }
  }
  ProberOptions options;
  options.rate = 0;  // no rate limit: all at once
  options.max_in_flight = 2000;
  options.timeout = 1500ms;
  options.total = 10s;
  const auto begin = std::chrono::steady_clock::now();
  const auto results = run_probes(probes, options);
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  REQUIRE(results.size() == probes.size());
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].id != i || results[i].reply != expected[i]) {
      if (++wrong <= 5) FAIL_CHECK("probe " << i << ": " << to_string(results[i].reply) << ", expected " << to_string(expected[i]));
    }
    if (expected[i] == Reply::connected || expected[i] == Reply::udp_reply) {
      if (!log.seen(probes[i].token)) std::this_thread::sleep_for(100ms);  // the listener may lag a little
      if (!log.seen(probes[i].token) && ++wrong <= 5) FAIL_CHECK("probe " << i << ": token not seen");
    }
  }
  CHECK(wrong == 0);
  CHECK(elapsed < 4s);  // all concurrently: about one timeout, not 100 of them
}
