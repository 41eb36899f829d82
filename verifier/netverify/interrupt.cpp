#include "interrupt.h"

#include <atomic>
#include <csignal>
#include <cstring>
#include <pthread.h>
#include <string>
#include <thread>

namespace netpol::live {

namespace {
std::atomic<int> g_signal{0};
std::thread g_watcher;
sigset_t watched() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);  // the guard's own wake-up at exit
  return set;
}
}  // namespace

Interrupted::Interrupted(int s) : std::runtime_error(std::string("interrupted by ") + strsignal(s)), signal(s) {}

InterruptGuard::InterruptGuard() {
  sigset_t set = watched();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  g_watcher = std::thread([set] {
    for (;;) {
      int s = 0;
      if (sigwait(&set, &s) != 0) continue;
      if (s == SIGUSR1) return;
      int none = 0;
      g_signal.compare_exchange_strong(none, s);
    }
  });
}

InterruptGuard::~InterruptGuard() {
  pthread_kill(g_watcher.native_handle(), SIGUSR1);
  g_watcher.join();
}

int pending_signal() { return g_signal.load(); }

void throw_if_interrupted() {
  if (int s = g_signal.load()) throw Interrupted(s);
}

}  // namespace netpol::live
