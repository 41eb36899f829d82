// The prober: every probe of a plan from one epoll loop, never blocking. A probe's socket is in
// flight from its start until its first answer (or its timeout); the loop starts probes no faster
// than the rate, no more than max_in_flight at once, and stops at the hard total bound.
#include "probe.h"

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>

#include "token.h"

namespace netpol::live {

std::string to_string(L4 p) { return p == L4::tcp ? "tcp" : "udp"; }

std::string to_string(Reply r) {
  switch (r) {
    case Reply::connected: return "connected";
    case Reply::reset: return "reset";
    case Reply::unreachable: return "unreachable";
    case Reply::udp_reply: return "udp_reply";
    case Reply::timeout: return "timeout";
    case Reply::error: return "error";
  }
  return "error";
}

namespace {

using Clock = std::chrono::steady_clock;

struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

bool parse_endpoint(const std::string& literal, std::uint16_t port, Endpoint& out) {
  out = Endpoint{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (inet_pton(AF_INET, literal.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.length = sizeof(sockaddr_in);
    return true;
  }
  out = Endpoint{};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET6, literal.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return 0;
  if (local.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&local)->sin_port);
  if (local.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port);
  return 0;
}

// The error behind a TCP attempt that has not connected. SO_ERROR gives the hard error, else the
// soft one: an ICMP error that arrived while the socket was busy in connect() (as it can on lo and
// veth, where the answer comes back within the sending call) only sets the soft error.
int pending_error(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

// The first ICMP error queued by IP_RECVERR/IPV6_RECVERR, or 0.
int queued_error(int fd) {
  char data[64];
  alignas(cmsghdr) char control[512];
  iovec io{data, sizeof data};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  if (recvmsg(fd, &message, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
        (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
      sock_extended_err error{};
      std::memcpy(&error, CMSG_DATA(c), sizeof error);
      return static_cast<int>(error.ee_errno);
    }
  }
  return 0;
}

bool is_connected(int fd) {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  return getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0;
}

// An error that arrived from the network (after the packet left): what the far side said.
Reply classify_answer(int error) {
  switch (error) {
    case ECONNREFUSED: return Reply::reset;
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EACCES:
    case EPERM:
    case EHOSTDOWN:
    case ENONET:
    case EPROTO: return Reply::unreachable;
    case ETIMEDOUT: return Reply::timeout;
    default: return Reply::error;
  }
}

// An error from connect()/send() before anything left this host: a missing route, a local
// firewall, no free port. Never evidence about the network, except a refusal already reported.
Reply classify_local(int error) { return error == ECONNREFUSED ? Reply::reset : Reply::error; }

class ProbeRun {
 public:
  ProbeRun(const std::vector<Probe>& probes, const ProberOptions& options)
      : probes_(probes),
        options_(options),
        results_(probes.size()),
        fds_(probes.size(), -1),
        started_(probes.size()),
        cap_(std::max(1u, options.max_in_flight)) {
    for (std::size_t i = 0; i < probes.size(); ++i) results_[i].id = probes[i].id;
  }
  ~ProbeRun() {
    for (int fd : fds_)
      if (fd >= 0) close(fd);
    if (epoll_ >= 0) close(epoll_);
  }
  ProbeRun(const ProbeRun&) = delete;
  ProbeRun& operator=(const ProbeRun&) = delete;

  std::vector<ProbeResult> run() {
    begin_ = Clock::now();
    const auto end = begin_ + options_.total;
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
      for (auto& r : results_) r.error = errno;
      return results_;
    }
    std::vector<epoll_event> events(256);
    for (;;) {
      auto now = Clock::now();
      if (now >= end) break;
      expire(now);
      launch(now);
      if (next_ == probes_.size() && in_flight_ == 0) break;
      const int wait_ms = milliseconds_until(std::min(end, next_wake(now)), Clock::now());
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), wait_ms);
      if (n < 0 && errno != EINTR) break;
      for (int k = 0; k < n; ++k) on_event(static_cast<std::size_t>(events[k].data.u64), events[k].events);
    }
    // The hard bound: whatever is still waiting saw nothing; whatever never started is no evidence.
    for (std::size_t i = 0; i < probes_.size(); ++i)
      if (fds_[i] >= 0) finish_unanswered(i);
    for (std::size_t i = next_; i < probes_.size(); ++i) results_[i].error = ECANCELED;
    return results_;
  }

 private:
  static int milliseconds_until(Clock::time_point when, Clock::time_point now) {
    if (when <= now) return 0;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(when - now).count();
    return static_cast<int>(std::min<long long>(ms, 1000));
  }

  // How many probes the rate allows to have started by `now` (the first one at once).
  std::size_t allowed(Clock::time_point now) const {
    if (options_.rate <= 0) return std::numeric_limits<std::size_t>::max();
    const double seconds = std::chrono::duration<double>(now - begin_).count();
    const double n = std::floor(seconds * options_.rate) + 1;
    return n >= static_cast<double>(probes_.size()) ? probes_.size() : static_cast<std::size_t>(n);
  }

  Clock::time_point next_wake(Clock::time_point now) {
    Clock::time_point wake = now + std::chrono::seconds(1);
    while (!order_.empty() && fds_[order_.front()] < 0) order_.pop_front();
    if (!order_.empty()) wake = std::min(wake, started_[order_.front()] + options_.timeout);
    if (next_ < probes_.size() && in_flight_ < cap_ && options_.rate > 0) {
      const auto slot = std::chrono::duration<double>(static_cast<double>(next_) / options_.rate);
      wake = std::min(wake, begin_ + std::chrono::duration_cast<Clock::duration>(slot));
    }
    return wake;
  }

  void expire(Clock::time_point now) {
    while (!order_.empty()) {
      const std::size_t i = order_.front();
      if (fds_[i] >= 0 && now < started_[i] + options_.timeout) break;
      order_.pop_front();
      if (fds_[i] >= 0) finish_unanswered(i);
    }
  }

  // The timeout (or the total bound) is reached: a TCP attempt may still hold an ICMP error that
  // arrived without a wake-up; otherwise nothing came back.
  void finish_unanswered(std::size_t i) {
    const int error = probes_[i].proto == L4::tcp ? pending_error(fds_[i]) : 0;
    if (error != 0 && error != ETIMEDOUT && classify_answer(error) != Reply::error) {
      finish(i, classify_answer(error), error);
    } else {
      finish(i, Reply::timeout, ETIMEDOUT);
    }
  }

  void launch(Clock::time_point now) {
    const std::size_t limit = allowed(now);
    while (next_ < probes_.size() && next_ < limit && in_flight_ < cap_) {
      if (!start(next_, now)) {  // out of descriptors: wait for some in flight to end
        cap_ = std::max<std::size_t>(1, in_flight_);
        if (in_flight_ > 0) return;
        finish(next_, Reply::error, EMFILE);
      }
      ++next_;
    }
  }

  // False only when no socket could be had and others are in flight (the probe is retried later).
  bool start(std::size_t i, Clock::time_point now) {
    const Probe& probe = probes_[i];
    started_[i] = now;
    Endpoint destination;
    if (!parse_endpoint(probe.destination, probe.port, destination)) return finish(i, Reply::error, EINVAL);
    const int type = probe.proto == L4::tcp ? SOCK_STREAM : SOCK_DGRAM;
    const int fd = socket(destination.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      if ((errno == EMFILE || errno == ENFILE) && in_flight_ > 0) return false;
      return finish(i, Reply::error, errno);
    }
    fds_[i] = fd;
    ++in_flight_;
    if (probe.proto == L4::tcp) {  // ICMP errors also reach the error queue, which wakes epoll
      const int on = 1;
      if (destination.family() == AF_INET) setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof on);
      else setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof on);
    }
    if (!probe.device.empty() &&  // a VPN client probes only through its tunnel, whatever its routes say
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, probe.device.c_str(), static_cast<socklen_t>(probe.device.size())) != 0)
      return finish(i, Reply::error, errno);
    if (!probe.source_address.empty()) {
      Endpoint source;
      if (!parse_endpoint(probe.source_address, 0, source) || source.family() != destination.family())
        return finish(i, Reply::error, EINVAL);
      if (bind(fd, source.address(), source.length) != 0) return finish(i, Reply::error, errno);
    }
    const int connected = connect(fd, destination.address(), destination.length);
    const int connect_error = connected == 0 ? 0 : errno;
    results_[i].source_port = local_port(fd);
    std::uint32_t wanted = EPOLLIN;
    if (probe.proto == L4::tcp) {
      if (connect_error != 0 && connect_error != EINPROGRESS) return finish(i, classify_local(connect_error), connect_error);
      wanted = EPOLLOUT;
    } else {
      if (connect_error != 0) return finish(i, classify_local(connect_error), connect_error);
      const auto request = request_for(probe.proto, probe.port, probe.token);
      if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) return finish(i, classify_local(errno), errno);
    }
    epoll_event event{};
    event.events = wanted;
    event.data.u64 = i;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) != 0) return finish(i, Reply::error, errno);
    order_.push_back(i);
    return true;
  }

  void on_event(std::size_t i, std::uint32_t events) {
    if (i >= fds_.size() || fds_[i] < 0) return;
    const int fd = fds_[i];
    if (probes_[i].proto == L4::tcp) {
      if ((events & EPOLLOUT) && is_connected(fd)) {
        // The handshake completed (whatever soft error an earlier SYN met): hand the destination
        // its token, then leave.
        const auto request = request_for(L4::tcp, probes_[i].port, probes_[i].token);
        (void)send(fd, request.data(), request.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        finish(i, Reply::connected, 0);
        return;
      }
      int error = pending_error(fd);
      if (error == 0 && (events & EPOLLERR)) error = queued_error(fd);
      if (error != 0) finish(i, classify_answer(error), error);
      return;
    }
    std::uint8_t buffer[2048];
    const ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n >= 0) {
      finish(i, Reply::udp_reply, 0);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      finish(i, classify_answer(errno), errno);
    }
  }

  bool finish(std::size_t i, Reply reply, int error) {
    ProbeResult& result = results_[i];
    result.reply = reply;
    result.error = error;
    result.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - started_[i]).count();
    if (fds_[i] >= 0) {
      close(fds_[i]);  // also leaves the epoll set
      fds_[i] = -1;
      --in_flight_;
    }
    return true;
  }

  const std::vector<Probe>& probes_;
  const ProberOptions options_;
  std::vector<ProbeResult> results_;
  std::vector<int> fds_;
  std::vector<Clock::time_point> started_;
  std::deque<std::size_t> order_;  // in flight, in start order (= deadline order: one timeout for all)
  std::size_t cap_;
  std::size_t next_ = 0;
  std::size_t in_flight_ = 0;
  int epoll_ = -1;
  Clock::time_point begin_;
};

}  // namespace

std::vector<ProbeResult> run_probes(const std::vector<Probe>& probes, const ProberOptions& options) {
  ProbeRun run(probes, options);
  return run.run();
}

}  // namespace netpol::live
