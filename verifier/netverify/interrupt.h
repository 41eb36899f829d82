#pragma once
// Ctrl-C and SIGTERM must never leave namespaces behind. The guard blocks SIGINT, SIGTERM and
// SIGHUP in every thread (create it before any thread) and a watcher thread records the signal;
// the run checks between its steps (every step is bounded in time) and tears down on the way out.
#include <stdexcept>

namespace netpol::live {

struct Interrupted : std::runtime_error {
  explicit Interrupted(int signal);
  int signal;
};

class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

int pending_signal();            // 0 when none
void throw_if_interrupted();     // throws Interrupted

}  // namespace netpol::live
