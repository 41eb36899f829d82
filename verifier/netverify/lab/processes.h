#pragma once
// Every process the lab starts: spawned inside a named network namespace (/run/netns/NAME), its
// output in a log file, in its own process group, killed at teardown (SIGTERM to the group, a
// bounded wait, then SIGKILL). fork/exec with argv arrays: nothing goes through a shell.
// Not thread-safe: one Processes belongs to one thread (which should outlive its children, see spawn).
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace netpol::live::lab {

class Processes {
 public:
  // A bind mount made in the child's private mount namespace (source -> target). read_only: the
  // bind is remounted read-only; a later rw mount below it (e.g. /proc/sys/net under a read-only
  // /proc/sys) is remounted rw explicitly, because a bind inherits its parent's read-only flag.
  struct Mount {
    std::string source, target;
    bool read_only = false;
  };
  struct Command {
    std::string ns;                 // network namespace name; empty: stay in ours
    std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
    std::string log;                // stdout + stderr, appended (created 0600)
    std::vector<Mount> mounts;      // non-empty: a private mount namespace with these binds
    std::vector<std::string> env;   // "KEY=VALUE" set on top of our environment
  };
  static constexpr int kTimedOut = -1;  // run(): killed because it outlived its timeout

  Processes() = default;
  Processes(const Processes&) = delete;
  Processes& operator=(const Processes&) = delete;
  ~Processes();  // stop_all

  // fork; the child joins the namespace, makes the mounts, sends its output to the log, dies
  // with the calling thread (PR_SET_PDEATHSIG SIGKILL: call from a thread that lives as long as
  // the lab), and execs. Throws std::runtime_error (with the reason) when any step before the
  // exec fails, so a wrong name or a missing tool is an error here, not a silent log line.
  pid_t spawn(const Command& command);
  pid_t spawn(const std::string& ns, const std::vector<std::string>& argv, const std::string& log,
              const std::vector<Mount>& mounts = {});

  // spawn, then wait for the exit: the exit code, 128+N when killed by signal N, kTimedOut when
  // the timeout ran out (its process group is then killed and reaped).
  int run(const Command& command, std::chrono::milliseconds timeout);
  int run(const std::string& ns, const std::vector<std::string>& argv, const std::string& log,
          std::chrono::milliseconds timeout, const std::vector<Mount>& mounts = {});

  // True while `pid` (one of ours) has not exited; reaps it when it has.
  bool alive(pid_t pid);
  // Stops one of ours the way stop_all does.
  void stop(pid_t pid);
  // SIGTERM to every process group of ours, up to ~3 s for them to exit, then SIGKILL; reaps all.
  void stop_all();

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kStopGrace{3};
  bool exited(pid_t pid);
  int reap(pid_t pid);
  void terminate(pid_t pid);
  void finish(pid_t pid, Clock::time_point deadline);
  std::vector<pid_t> running_;
};

}  // namespace netpol::live::lab
