#pragma once
// Named network namespaces, made the way `ip netns add` makes them (a bind mount of the namespace
// on /run/netns/NAME), and threads that work inside one. Every name netverify creates starts with
// kNamePrefix, so `netverify cleanup` can find what a crash left.
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace netpol::live {

inline constexpr const char* kNamePrefix = "nv-";

struct ToolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void netns_add(const std::string& name);                 // throws ToolError (exists, no permission)
void netns_delete(const std::string& name);              // no error when absent
bool netns_exists(const std::string& name);
std::vector<std::string> netns_list();                   // names under /run/netns, sorted

// Joins the calling thread to namespace `name` (empty: the namespace the process started in) and
// returns it to where it was on destruction.
class ScopedNetns {
 public:
  explicit ScopedNetns(const std::string& name);
  ~ScopedNetns();
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;

 private:
  int previous_ = -1;
};

// Runs fn on a new thread joined to namespace `name`, waits, and rethrows what it threw.
void run_in_netns(const std::string& name, const std::function<void()>& fn);

// Processes whose network namespace is `name` (scans /proc/*/ns/net), for cleanup.
std::vector<int> netns_pids(const std::string& name);

}  // namespace netpol::live
