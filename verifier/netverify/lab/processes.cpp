// Processes: fork/exec into a network namespace. Everything the child needs (paths, argv, env,
// file descriptors) is prepared before fork, so the child only makes system calls: the lab may
// run threads, and after fork only async-signal-safe calls are allowed.
#include "processes.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace netpol::live::lab {

namespace {

std::runtime_error error(const std::string& what) { return std::runtime_error("processes: " + what); }
std::runtime_error sys_error(const std::string& what, int err) { return error(what + ": " + std::strerror(err)); }

// A file descriptor closed on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string find_in_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + program;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  throw error("'" + program + "' not found in PATH");
}

// Our environment with `overrides` ("KEY=VALUE") replacing or adding keys.
std::vector<std::string> environment_with(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry = *e;
    std::string key = entry.substr(0, entry.find('='));
    bool replaced = std::any_of(overrides.begin(), overrides.end(),
                                [&](const std::string& o) { return o.substr(0, o.find('=')) == key; });
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Child side: report the failing step and errno on the error pipe, then exit.
[[noreturn]] void child_fail(int pipe_fd, int step) {
  int report[2] = {step, errno};
  ssize_t ignored = ::write(pipe_fd, report, sizeof report);
  (void)ignored;
  ::_exit(127);
}

enum Step { kSignals = 1, kPdeathsig, kSetns, kUnshare, kPrivate, kBind, kRemount, kStdio, kExec };

const char* step_name(int step) {
  switch (step) {
    case kSignals: return "resetting signals";
    case kPdeathsig: return "PR_SET_PDEATHSIG";
    case kSetns: return "joining the network namespace";
    case kUnshare: return "unsharing the mount namespace";
    case kPrivate: return "making / private";
    case kBind: return "a bind mount";
    case kRemount: return "remounting a bind";
    case kStdio: return "redirecting output";
    case kExec: return "exec";
    default: return "an unknown step";
  }
}

struct ChildPlan {
  int ns_fd = -1, log_fd = -1, null_fd = -1, error_fd = -1;
  pid_t parent = 0;
  const char* program = nullptr;
  char** argv = nullptr;
  char** envp = nullptr;
  std::vector<const Processes::Mount*> mounts;
};

[[noreturn]] void child_main(const ChildPlan& plan) {
  sigset_t all;
  sigemptyset(&all);
  if (::sigprocmask(SIG_SETMASK, &all, nullptr) != 0) child_fail(plan.error_fd, kSignals);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::signal(sig, SIG_DFL);  // ignored signals would stay ignored across exec (SIGPIPE, SIGINT)
  }
  ::setpgid(0, 0);  // its own group: stop() kills what it forks too (nginx workers)
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(plan.error_fd, kPdeathsig);
  if (::getppid() != plan.parent) ::_exit(126);  // the parent died before prctl
  if (plan.ns_fd >= 0 && ::setns(plan.ns_fd, CLONE_NEWNET) != 0) child_fail(plan.error_fd, kSetns);
  if (!plan.mounts.empty()) {
    if (::unshare(CLONE_NEWNS) != 0) child_fail(plan.error_fd, kUnshare);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) child_fail(plan.error_fd, kPrivate);
    for (const auto* m : plan.mounts) {
      if (::mount(m->source.c_str(), m->target.c_str(), nullptr, MS_BIND, nullptr) != 0)
        child_fail(plan.error_fd, kBind);
      // A bind remount keeps the flags the kernel locks (nosuid, nodev, noexec of /proc) only
      // when they are passed again: take them from the mount as it is.
      struct statvfs st {};
      if (::statvfs(m->target.c_str(), &st) != 0) child_fail(plan.error_fd, kRemount);
      unsigned long flags = MS_REMOUNT | MS_BIND;
      if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
      if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
      if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
      if (m->read_only) flags |= MS_RDONLY;
      if (::mount(nullptr, m->target.c_str(), nullptr, flags, nullptr) != 0) child_fail(plan.error_fd, kRemount);
    }
  }
  if (::dup2(plan.null_fd, 0) < 0 || ::dup2(plan.log_fd, 1) < 0 || ::dup2(plan.log_fd, 2) < 0)
    child_fail(plan.error_fd, kStdio);
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // nothing of ours leaks into the tool
  ::execve(plan.program, plan.argv, plan.envp);
  child_fail(plan.error_fd, kExec);
}

// Refuses a namespace name that is the namespace we run in: the tools must never touch ours.
void check_not_ours(int ns_fd, const std::string& ns) {
  struct stat theirs {}, ours {};
  if (::fstat(ns_fd, &theirs) != 0 || ::stat("/proc/self/ns/net", &ours) != 0)
    throw sys_error("stat of namespace " + ns, errno);
  if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
    throw error("refusing: namespace '" + ns + "' is the namespace netverify runs in");
}

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace

Processes::~Processes() { stop_all(); }

pid_t Processes::spawn(const std::string& ns, const std::vector<std::string>& argv, const std::string& log,
                       const std::vector<Mount>& mounts) {
  return spawn(Command{ns, argv, log, mounts, {}});
}

int Processes::run(const std::string& ns, const std::vector<std::string>& argv, const std::string& log,
                   std::chrono::milliseconds timeout, const std::vector<Mount>& mounts) {
  return run(Command{ns, argv, log, mounts, {}}, timeout);
}

pid_t Processes::spawn(const Command& command) {
  if (command.argv.empty()) throw error("spawn: no command");
  if (command.log.empty()) throw error("spawn: no log file for " + command.argv[0]);
  ChildPlan plan;
  plan.parent = ::getpid();
  std::string program = find_in_path(command.argv[0]);
  plan.program = program.c_str();
  std::vector<std::string> args = command.argv;
  std::vector<char*> argv = pointers(args);
  std::vector<std::string> env = environment_with(command.env);
  std::vector<char*> envp = pointers(env);
  plan.argv = argv.data();
  plan.envp = envp.data();
  for (const auto& m : command.mounts) plan.mounts.push_back(&m);

  Fd ns_fd(-1);
  if (!command.ns.empty()) {
    if (command.ns.find('/') != std::string::npos || command.ns == "." || command.ns == "..")
      throw error("bad namespace name '" + command.ns + "'");
    ns_fd.fd = ::open(("/run/netns/" + command.ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fd.fd < 0) throw sys_error("namespace " + command.ns, errno);
    check_not_ours(ns_fd.fd, command.ns);
  }
  Fd log_fd(::open(command.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (log_fd.fd < 0) throw sys_error("log " + command.log, errno);
  Fd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_fd.fd < 0) throw sys_error("/dev/null", errno);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw sys_error("pipe", errno);
  Fd error_read(pipe_fds[0]), error_write(pipe_fds[1]);
  plan.ns_fd = ns_fd.fd;
  plan.log_fd = log_fd.fd;
  plan.null_fd = null_fd.fd;
  plan.error_fd = error_write.fd;

  pid_t pid = ::fork();
  if (pid < 0) throw sys_error("fork", errno);
  if (pid == 0) child_main(plan);
  ::setpgid(pid, pid);  // also from here: no race with a kill before the child ran setpgid
  running_.push_back(pid);
  ::close(error_write.fd);
  error_write.fd = -1;
  int report[2] = {0, 0};
  ssize_t got;
  do got = ::read(error_read.fd, report, sizeof report);
  while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof report)) {  // EOF (0) means the exec succeeded
    stop(pid);
    throw error(command.argv[0] + (command.ns.empty() ? "" : " in " + command.ns) + ": " +
                step_name(report[0]) + " failed: " + std::strerror(report[1]));
  }
  return pid;
}

int Processes::run(const Command& command, std::chrono::milliseconds timeout) {
  pid_t pid = spawn(command);
  auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (!exited(pid)) {
    if (Clock::now() >= deadline) {
      stop(pid);
      return kTimedOut;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  return reap(pid);
}

bool Processes::alive(pid_t pid) {
  if (std::find(running_.begin(), running_.end(), pid) == running_.end()) return false;
  if (!exited(pid)) return true;
  reap(pid);
  return false;
}

void Processes::stop(pid_t pid) {
  if (std::find(running_.begin(), running_.end(), pid) == running_.end()) return;
  terminate(pid);
  finish(pid, Clock::now() + kStopGrace);
}

void Processes::stop_all() {
  std::vector<pid_t> pids = running_;
  for (pid_t pid : pids) terminate(pid);  // everyone first, so the waits overlap
  auto deadline = Clock::now() + kStopGrace;
  for (pid_t pid : pids) finish(pid, deadline);
}

// The leader is left a zombie (WNOWAIT) until reap(): while it is one, its pid (the group id)
// cannot be reused, so killing the group never hits a stranger.
bool Processes::exited(pid_t pid) {
  siginfo_t info{};
  for (;;) {
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0) return info.si_pid == pid;
    if (errno != EINTR) return true;  // not our child any more: nothing to wait for
  }
}

int Processes::reap(pid_t pid) {
  ::kill(-pid, SIGKILL);  // whatever it forked and left behind in its group (nginx workers)
  int status = 0;
  pid_t done;
  do done = ::waitpid(pid, &status, 0);
  while (done < 0 && errno == EINTR);
  running_.erase(std::remove(running_.begin(), running_.end(), pid), running_.end());
  return done == pid ? exit_status(status) : 255;
}

void Processes::terminate(pid_t pid) {
  ::kill(-pid, SIGTERM);
  ::kill(pid, SIGTERM);  // also when it has not made its own group yet
}

void Processes::finish(pid_t pid, Clock::time_point deadline) {
  while (!exited(pid) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!exited(pid)) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  }
  reap(pid);
}

}  // namespace netpol::live::lab
