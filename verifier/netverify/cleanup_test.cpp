// cleanup_leftovers against real namespaces and processes. The prefix carries the test's pid, so
// other runs' namespaces are never touched. Links in the starting namespace are made only by the
// hidden [fresh-netns] test, which ctest runs inside a private namespace (in_fresh_netns.sh).
#include "cleanup.h"

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "fake_netlink.h"

using namespace netpol::live;

namespace {

std::string test_prefix() { return "nv-t" + std::to_string(::getpid()) + "-"; }
std::string other_prefix() { return "nv-u" + std::to_string(::getpid()) + "-"; }  // must survive cleanup

// Removes whatever the test left under its prefixes, also when an assertion failed halfway.
struct CleanupGuard {
  ~CleanupGuard() {
    for (const std::string& ns : netns_list())
      if (ns.rfind(test_prefix(), 0) == 0 || ns.rfind(other_prefix(), 0) == 0) netns_delete(ns);
  }
};

// `sleep` started by iproute2 in our namespace: proves the namespaces are the ones `ip` uses.
pid_t sleep_in(const std::string& ns) {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::execlp("ip", "ip", "netns", "exec", ns.c_str(), "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 150 && netns_pids(ns).empty(); ++i)  // at most 3 s
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return child;
}

// Reaps the child, returning the signal that ended it (0 if it exited or is still running).
int ended_by(pid_t child) {
  int status = 0;
  for (int i = 0; i < 150; ++i) {
    if (::waitpid(child, &status, WNOHANG) == child) return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  return 0;
}

}  // namespace

TEST_CASE("cleanup_leftovers stops the processes in prefixed namespaces and deletes them", "[cleanup]") {
  CleanupGuard guard;
  const std::string prefix = test_prefix();
  netns_add(prefix + "busy");
  netns_add(prefix + "idle");
  netns_add(other_prefix() + "other");
  const pid_t sleeper = sleep_in(prefix + "busy");
  REQUIRE(netns_pids(prefix + "busy") == std::vector<int>{sleeper});

  FakeNetlink links;  // links of the starting namespace, without touching the real one
  links.add_veth("", prefix + "v", prefix + "idle", "eth0");
  links.add_veth("", "keep0", prefix + "idle", "eth1");
  CHECK(leftovers(links, prefix) ==
        std::vector<std::string>{"link " + prefix + "v", "netns " + prefix + "busy", "netns " + prefix + "idle"});

  const auto started = std::chrono::steady_clock::now();
  const CleanupReport report = cleanup_leftovers(links, prefix);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));  // SIGTERM was enough
  CHECK(report.namespaces == std::vector<std::string>{prefix + "busy", prefix + "idle"});
  CHECK(report.pids == std::vector<int>{sleeper});
  CHECK(report.links == std::vector<std::string>{prefix + "v"});
  CHECK(ended_by(sleeper) == SIGTERM);
  CHECK(leftovers(links, prefix).empty());
  CHECK_FALSE(netns_exists(prefix + "busy"));
  CHECK(links.link_exists("", "keep0"));
  CHECK(netns_exists(other_prefix() + "other"));
}

TEST_CASE("cleanup refuses an empty prefix", "[cleanup]") {
  FakeNetlink links;
  CHECK_THROWS_AS(cleanup_leftovers(links, ""), ToolError);
  CHECK_THROWS_AS(leftovers(links, ""), ToolError);
}

// Makes links in the namespace it starts in: ctest runs it through in_fresh_netns.sh only.
TEST_CASE("cleanup_leftovers deletes a prefixed veth end left on a bridge", "[.][fresh-netns]") {
  auto netlink = make_libnl_netlink();
  // A fresh namespace holds only lo; anything else means we are somewhere we must not make links.
  REQUIRE(netlink->link_names("") == std::vector<std::string>{"lo"});
  CleanupGuard guard;
  const std::string prefix = test_prefix();
  netns_add(prefix + "vm");
  netlink->add_bridge("", "vmbr9");
  netlink->add_veth("", prefix + "v", prefix + "vm", "eth0");
  netlink->add_veth("", prefix + "w", "", prefix + "x");  // both ends here
  netlink->set_master("", prefix + "v", "vmbr9");
  netlink->set_master("", prefix + "w", "vmbr9");
  CHECK(leftovers(*netlink, prefix) == std::vector<std::string>{"link " + prefix + "v", "link " + prefix + "w",
                                                                "link " + prefix + "x", "netns " + prefix + "vm"});

  const CleanupReport report = cleanup_leftovers(*netlink, prefix);
  CHECK(report.namespaces == std::vector<std::string>{prefix + "vm"});
  CHECK(report.pids.empty());
  CHECK(leftovers(*netlink, prefix).empty());
  CHECK(netlink->link_names("") == std::vector<std::string>{"lo", "vmbr9"});
  netlink->delete_link("", "vmbr9");
}
