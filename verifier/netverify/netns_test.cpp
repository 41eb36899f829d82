// Named namespaces against the real kernel (as root). Names carry the test's pid so parallel runs
// never collide, and a guard deletes what a test made even when it fails.
#include "netns.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <linux/sockios.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

using namespace netpol::live;

namespace {

std::string test_name(const std::string& suffix) { return "nv-t" + std::to_string(::getpid()) + "-" + suffix; }

struct TestNetns {
  std::string name;
  explicit TestNetns(const std::string& suffix) : name(test_name(suffix)) { netns_add(name); }
  ~TestNetns() { netns_delete(name); }
};

// (device, inode) of a namespace file or /proc/.../ns/net link: equal means the same namespace.
std::pair<dev_t, ino_t> identity(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return {info.st_dev, info.st_ino};
}

std::pair<dev_t, ino_t> thread_netns() { return identity("/proc/thread-self/ns/net"); }

std::string run_command(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  ::pclose(pipe);
  return out;
}

}  // namespace

TEST_CASE("netns_add makes a namespace that list and exists and iproute2 see and netns_delete removes it", "[netns]") {
  const std::string name = test_name("a");
  {
    TestNetns ns("a");
    CHECK(netns_exists(name));
    const auto names = netns_list();
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
    CHECK(std::is_sorted(names.begin(), names.end()));
    CHECK(run_command("ip netns list").find(name) != std::string::npos);
    // A real namespace, not just a file: its identity differs from ours.
    CHECK(identity("/run/netns/" + name) != thread_netns());
    CHECK_THROWS_AS(netns_add(name), ToolError);  // exists already
  }
  CHECK_FALSE(netns_exists(name));
  const auto names = netns_list();
  CHECK(std::find(names.begin(), names.end(), name) == names.end());
  CHECK_NOTHROW(netns_delete(name));  // absent is fine
}

TEST_CASE("namespace names other than short lowercase words are refused", "[netns]") {
  for (const std::string& bad : std::vector<std::string>{"", "../etc", "a/b", "Upper", "-lead", ".hidden", std::string(42, 'a')}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(netns_add(bad), ToolError);
    if (!bad.empty()) CHECK_THROWS_AS(ScopedNetns(bad), ToolError);  // empty: the starting namespace
  }
  CHECK_NOTHROW(netns_exists(std::string(41, 'a')));
}

TEST_CASE("ScopedNetns puts the thread and the sockets it opens in the namespace and then returns", "[netns]") {
  TestNetns ns("s");
  const auto home = thread_netns();
  const auto target = identity("/run/netns/" + ns.name);
  int socket_fd = -1;
  {
    ScopedNetns inside(ns.name);
    CHECK(thread_netns() == target);
    socket_fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(socket_fd >= 0);
    {
      ScopedNetns back_home("");  // empty: the namespace the process started in
      CHECK(thread_netns() == home);
    }
    CHECK(thread_netns() == target);
  }
  CHECK(thread_netns() == home);
  // The socket stays in the namespace it was made in.
  const int socket_ns = ::ioctl(socket_fd, SIOCGSKNS);
  REQUIRE(socket_ns >= 0);
  struct stat info {};
  REQUIRE(::fstat(socket_ns, &info) == 0);
  CHECK(std::make_pair(info.st_dev, info.st_ino) == target);
  ::close(socket_ns);
  ::close(socket_fd);
}

TEST_CASE("ScopedNetns into a missing namespace throws and leaves the thread where it was", "[netns]") {
  const auto home = thread_netns();
  CHECK_THROWS_AS(ScopedNetns(test_name("missing")), ToolError);
  CHECK(thread_netns() == home);
}

TEST_CASE("run_in_netns runs on a thread in the namespace and rethrows what it threw", "[netns]") {
  TestNetns ns("r");
  std::pair<dev_t, ino_t> seen{};
  run_in_netns(ns.name, [&] { seen = thread_netns(); });
  CHECK(seen == identity("/run/netns/" + ns.name));
  CHECK_THROWS_WITH(run_in_netns(ns.name, [] { throw std::runtime_error("boom"); }), "boom");
  CHECK_THROWS_AS(run_in_netns(test_name("missing"), [] {}), ToolError);
}

TEST_CASE("netns_pids finds a process living in the namespace and not once it is gone", "[netns]") {
  TestNetns ns("p");
  CHECK(netns_pids(ns.name).empty());
  const std::string path = "/run/netns/" + ns.name;
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // only async-signal-safe calls here
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  std::vector<int> pids;
  for (int i = 0; i < 150 && pids.empty(); ++i) {  // at most 3 s for the child to join
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pids = netns_pids(ns.name);
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  CHECK(pids == std::vector<int>{child});
  CHECK(netns_pids(ns.name).empty());
}
