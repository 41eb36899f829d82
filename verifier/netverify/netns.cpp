// Named namespaces the way iproute2 makes them: /run/netns is a shared mount, and each name is an
// empty file with a namespace bind-mounted on it, so the namespace outlives the thread that made it.
#include "netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

namespace netpol::live {
namespace {

constexpr const char* kRunDir = "/run/netns";

std::string errno_text(int error) { return std::strerror(error); }

// Opened before main, on the main thread: "the namespace the process started in", whatever
// threads later join.
int open_initial_netns() { return ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC); }
const int g_initial_netns = open_initial_netns();

// [a-z0-9][a-z0-9_.-]{0,40}: no slashes, no dot files, short enough for every tool.
void check_name(const std::string& name) {
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  const bool valid = !name.empty() && name.size() <= 41 && lower_or_digit(name.front()) &&
                     std::all_of(name.begin(), name.end(),
                                 [&](char c) { return lower_or_digit(c) || c == '_' || c == '.' || c == '-'; });
  if (!valid) throw ToolError("invalid namespace name '" + name + "'");
}

std::string path_of(const std::string& name) { return std::string(kRunDir) + "/" + name; }

// As `ip netns add` does: namespaces mounted under /run/netns must propagate to other mount
// namespaces (a shell that entered one later still sees them), so the directory is made a shared
// mount, bind-mounting it on itself first when it is not a mount point yet.
void prepare_run_dir() {
  if (::mkdir(kRunDir, 0755) != 0 && errno != EEXIST)
    throw ToolError(std::string("mkdir ") + kRunDir + ": " + errno_text(errno));
  for (bool bound = false;; bound = true) {
    if (::mount("", kRunDir, "none", MS_SHARED | MS_REC, nullptr) == 0) return;
    if (errno != EINVAL || bound)
      throw ToolError(std::string("mount --make-rshared ") + kRunDir + ": " + errno_text(errno));
    if (::mount(kRunDir, kRunDir, "none", MS_BIND | MS_REC, nullptr) != 0)
      throw ToolError(std::string("mount --rbind ") + kRunDir + ": " + errno_text(errno));
  }
}

// On a throwaway thread: a new namespace for that thread only, pinned by a bind mount on `path`.
void pin_new_netns(const std::string& path) {
  int error = 0;
  std::string step;
  std::thread worker([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      error = errno;
      step = "unshare(CLONE_NEWNET)";
    } else if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
      error = errno;
      step = "bind mount on " + path;
    }
  });
  worker.join();
  if (error != 0) throw ToolError("netns add: " + step + ": " + errno_text(error));
}

}  // namespace

void netns_add(const std::string& name) {
  check_name(name);
  static std::mutex serialize;  // two threads must not both bind-mount /run/netns on itself
  std::lock_guard lock(serialize);
  prepare_run_dir();
  const std::string path = path_of(name);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) throw ToolError("netns add " + name + ": " + errno_text(errno));
  ::close(fd);
  try {
    pin_new_netns(path);
  } catch (...) {
    ::unlink(path.c_str());
    throw;
  }
}

void netns_delete(const std::string& name) {
  check_name(name);
  const std::string path = path_of(name);
  // EINVAL: not a mount point (a half-made namespace); ENOENT: absent. Both are fine here.
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    throw ToolError("netns delete " + name + ": umount: " + errno_text(errno));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw ToolError("netns delete " + name + ": unlink: " + errno_text(errno));
}

bool netns_exists(const std::string& name) {
  check_name(name);
  struct stat info {};
  return ::stat(path_of(name).c_str(), &info) == 0;
}

std::vector<std::string> netns_list() {
  std::vector<std::string> names;
  DIR* dir = ::opendir(kRunDir);
  if (dir == nullptr) return names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

ScopedNetns::ScopedNetns(const std::string& name) {
  int target = -1;
  if (name.empty()) {
    if (g_initial_netns < 0) throw ToolError("the initial network namespace is unknown (no /proc?)");
    target = ::dup(g_initial_netns);
  } else {
    check_name(name);
    target = ::open(path_of(name).c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (target < 0) throw ToolError("netns " + name + ": " + errno_text(errno));
  previous_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int open_error = errno;
  if (previous_ < 0) {
    ::close(target);
    throw ToolError("open /proc/thread-self/ns/net: " + errno_text(open_error));
  }
  const int joined = ::setns(target, CLONE_NEWNET);
  const int join_error = errno;
  ::close(target);
  if (joined != 0) {
    ::close(previous_);
    throw ToolError("setns into netns '" + name + "': " + errno_text(join_error));
  }
}

ScopedNetns::~ScopedNetns() {
  // A thread left in the wrong namespace would send later work to the wrong place: stop instead.
  if (::setns(previous_, CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "netverify: cannot return a thread to its namespace: %s\n", std::strerror(errno));
    std::abort();
  }
  ::close(previous_);
}

void run_in_netns(const std::string& name, const std::function<void()>& fn) {
  std::exception_ptr failure;
  std::thread worker([&] {
    try {
      ScopedNetns inside(name);
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
}

std::vector<int> netns_pids(const std::string& name) {
  check_name(name);
  std::vector<int> pids;
  struct stat target {};
  if (::stat(path_of(name).c_str(), &target) != 0) return pids;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) throw ToolError("opendir /proc: " + errno_text(errno));
  const int self = ::getpid();
  while (const dirent* entry = ::readdir(proc)) {
    const std::string pid = entry->d_name;
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    struct stat ns {};
    // Fails for zombies and processes that just exited: they hold no namespace any more.
    if (::stat(("/proc/" + pid + "/ns/net").c_str(), &ns) != 0) continue;
    if (ns.st_dev == target.st_dev && ns.st_ino == target.st_ino && std::stoi(pid) != self)
      pids.push_back(std::stoi(pid));
  }
  ::closedir(proc);
  std::sort(pids.begin(), pids.end());
  return pids;
}

}  // namespace netpol::live
