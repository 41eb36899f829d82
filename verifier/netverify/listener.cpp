// The lab's listeners: one thread, one epoll, every bound port. Each request is read (a bounded
// amount, for a bounded time), its token recorded, and a short answer sent so the prober sees the
// service: what a real server on that port would say, as far as DNS and OpenVPN go.
#include "listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "token.h"

namespace netpol::live {

void TokenLog::record(const std::string& token) {
  const std::lock_guard lock(mutex_);
  tokens_.insert(token);
}

bool TokenLog::seen(const std::string& token) const {
  const std::lock_guard lock(mutex_);
  return tokens_.count(token) > 0;
}

std::size_t TokenLog::size() const {
  const std::lock_guard lock(mutex_);
  return tokens_.size();
}

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t max_request = 512;
constexpr std::size_t max_connections = 4096;
constexpr auto connection_lifetime = std::chrono::seconds(2);
constexpr int batch = 64;  // accepts or datagrams per wake-up, so one busy port cannot starve the rest

std::string describe(const ListenSpec& spec) {
  return spec.address + " " + to_string(spec.proto) + "/" + std::to_string(spec.port);
}

[[noreturn]] void fail(const ListenSpec& spec, const std::string& why) {
  throw std::runtime_error("listen on " + describe(spec) + ": " + why);
}

bool is_http(std::string_view request) {
  static constexpr std::array methods{"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
  for (std::string_view method : methods)
    if (request.substr(0, method.size()) == method) return true;
  return false;
}

std::string tcp_reply(std::string_view request, const std::optional<std::string>& token) {
  if (!is_http(request)) return "NETVERIFY OK\n";
  const std::string body = token ? "netverify " + *token + "\n" : "netverify\n";
  return "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

// The length of a DNS query's header and single question, or 0 when `d` is not such a query.
std::size_t dns_question_end(const Bytes& d) {
  if (d.size() < 12 || (d[2] & 0x80) != 0 || ((d[2] >> 3) & 0x0f) != 0) return 0;  // a standard query
  if (d[4] != 0 || d[5] != 1) return 0;                                           // one question
  std::size_t at = 12;
  for (int labels = 0; labels < 128; ++labels) {
    if (at >= d.size()) return 0;
    const std::size_t length = d[at];
    if (length == 0) return at + 1 + 4 <= d.size() ? at + 1 + 4 : 0;
    if (length > 63) return 0;  // no compression in a question
    at += 1 + length;
  }
  return 0;
}

Bytes udp_reply(const Bytes& request) {
  if (const std::size_t end = dns_question_end(request)) {  // NXDOMAIN, question copied
    Bytes reply(request.begin(), request.begin() + static_cast<std::ptrdiff_t>(end));
    reply[2] = static_cast<std::uint8_t>(0x80 | (request[2] & 0x79));  // QR; opcode and RD kept
    reply[3] = 0x03;                                                  // RCODE 3
    std::fill(reply.begin() + 6, reply.begin() + 12, 0);              // no answer, authority, additional
    return reply;
  }
  if (request.size() >= 14 && request[0] == (7 << 3)) {
    // P_CONTROL_HARD_RESET_SERVER_V2: our session id, an ack of the client's packet 0, its session id.
    Bytes reply{8 << 3};
    for (std::size_t i = 8; i >= 1; --i) reply.push_back(request[i]);
    reply.push_back(1);
    reply.insert(reply.end(), 4, 0);
    reply.insert(reply.end(), request.begin() + 1, request.begin() + 9);
    reply.insert(reply.end(), 4, 0);
    return reply;
  }
  const std::string_view ok = "NETVERIFY OK\n";
  return {ok.begin(), ok.end()};
}

class EpollListener final : public Listener {
 public:
  explicit EpollListener(TokenLog& log) : log_(log) {}

  ~EpollListener() override {
    stop();
    for (auto& [fd, connection] : connections_) close(fd);
    for (const auto& s : sockets_) close(s.fd);
    if (epoll_ >= 0) close(epoll_);
    if (wake_ >= 0) close(wake_);
  }

  void open(const std::vector<ListenSpec>& specs) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_ < 0 || wake_ < 0) throw std::runtime_error(std::string("listener: ") + std::strerror(errno));
    watch(wake_, EPOLLIN);
    for (const auto& spec : specs) bind_one(spec);
    thread_ = std::thread([this] { serve(); });
  }

  const std::vector<ListenSpec>& bound() const override { return bound_; }
  const std::vector<ListenSpec>& taken() const override { return taken_; }

  void stop() override {
    const std::lock_guard lock(stop_mutex_);
    if (!thread_.joinable()) return;
    const std::uint64_t one = 1;
    (void)!write(wake_, &one, sizeof one);
    thread_.join();
  }

 private:
  struct Socket {
    int fd;
    ListenSpec spec;
  };
  struct Connection {
    std::uint16_t port = 0;
    std::uint64_t serial = 0;
    std::string received;
    bool recorded = false;
  };

  void watch(int fd, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) != 0)
      throw std::runtime_error(std::string("listener: epoll: ") + std::strerror(errno));
  }

  void bind_one(const ListenSpec& spec) {
    sockaddr_storage storage{};
    socklen_t length = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (inet_pton(AF_INET, spec.address.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(spec.port);
      length = sizeof *v4;
    } else if (inet_pton(AF_INET6, spec.address.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(spec.port);
      length = sizeof *v6;
    } else {
      fail(spec, "not an address literal");
    }
    const int family = storage.ss_family;
    const bool tcp = spec.proto == L4::tcp;
    const int fd = socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(spec, std::strerror(errno));
    sockets_.push_back({fd, spec});  // closed by the destructor, also when this throws
    const int on = 1;
    // TCP only: on UDP, SO_REUSEADDR would let us share a port with a real service and steal its
    // datagrams instead of reporting the port as taken.
    if (tcp) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (!tcp) {  // answer from the address the datagram was sent to, as the prober's connected socket expects
      if (family == AF_INET) setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
      else setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
    }
    if (bind(fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
      if (errno != EADDRINUSE) fail(spec, std::strerror(errno));
      taken_.push_back(spec);
      close(fd);
      sockets_.pop_back();
      return;
    }
    if (tcp && listen(fd, SOMAXCONN) != 0) fail(spec, std::strerror(errno));
    watch(fd, EPOLLIN);
    socket_index_[fd] = sockets_.size() - 1;
    bound_.push_back(spec);
  }

  void serve() {
    std::array<epoll_event, 128> events{};
    for (;;) {
      expire(Clock::now());
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), wait_ms());
      if (n < 0 && errno != EINTR) return;
      for (int k = 0; k < n; ++k) {
        const int fd = events[k].data.fd;
        if (fd == wake_) return;
        if (auto s = socket_index_.find(fd); s != socket_index_.end()) {
          const Socket& socket = sockets_[s->second];
          if (socket.spec.proto == L4::tcp) accept_some(socket);
          else answer_datagrams(socket);
        } else {
          on_readable(fd);
        }
      }
    }
  }

  int wait_ms() {
    while (!deadlines_.empty() && !alive(deadlines_.front())) deadlines_.pop_front();
    if (deadlines_.empty()) return 1000;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadlines_.front().when - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 1000));
  }

  struct Deadline {
    Clock::time_point when;
    int fd;
    std::uint64_t serial;
  };

  bool alive(const Deadline& d) const {
    const auto c = connections_.find(d.fd);
    return c != connections_.end() && c->second.serial == d.serial;
  }

  void expire(Clock::time_point now) {
    while (!deadlines_.empty() && (deadlines_.front().when <= now || !alive(deadlines_.front()))) {
      if (alive(deadlines_.front())) drop(deadlines_.front().fd);
      deadlines_.pop_front();
    }
  }

  void accept_some(const Socket& socket) {
    for (int k = 0; k < batch; ++k) {
      const int fd = accept4(socket.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      if (connections_.size() >= max_connections) {
        close(fd);
        continue;
      }
      epoll_event event{};
      event.events = EPOLLIN | EPOLLRDHUP;
      event.data.fd = fd;
      if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) != 0) {
        close(fd);
        continue;
      }
      Connection& c = connections_[fd];
      c = Connection{socket.spec.port, ++serial_, {}, false};
      deadlines_.push_back({Clock::now() + connection_lifetime, fd, c.serial});
    }
  }

  void on_readable(int fd) {
    const auto found = connections_.find(fd);
    if (found == connections_.end()) return;
    Connection& c = found->second;
    char buffer[max_request];
    const ssize_t n = recv(fd, buffer, max_request - c.received.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n < 0) return drop(fd);
    c.received.append(buffer, static_cast<std::size_t>(n));
    const std::string_view request = c.received;
    const auto token = find_token(request);
    if (token && !c.recorded) {
      log_.record(*token);
      c.recorded = true;
    }
    const bool http = is_http(request);
    const bool complete = n == 0 || c.received.size() >= max_request ||
                          (http ? request.find("\r\n\r\n") != request.npos || request.find("\n\n") != request.npos
                                : request.find('\n') != request.npos);
    if (!complete) return;
    const std::string reply = tcp_reply(request, token);
    (void)send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    drop(fd);
  }

  void drop(int fd) {
    connections_.erase(fd);
    close(fd);  // also leaves the epoll set
  }

  void answer_datagrams(const Socket& socket) {
    for (int k = 0; k < batch; ++k) {
      Bytes request(2048);
      sockaddr_storage peer{};
      alignas(cmsghdr) char control[256];
      iovec io{request.data(), request.size()};
      msghdr message{};
      message.msg_name = &peer;
      message.msg_namelen = sizeof peer;
      message.msg_iov = &io;
      message.msg_iovlen = 1;
      message.msg_control = control;
      message.msg_controllen = sizeof control;
      const ssize_t n = recvmsg(socket.fd, &message, MSG_DONTWAIT);
      if (n < 0) return;
      request.resize(static_cast<std::size_t>(n));
      if (auto token = find_token(L4::udp, socket.spec.port, request)) log_.record(*token);
      reply_from_same_address(socket.fd, message, udp_reply(request));
    }
  }

  // Sends `reply` to the sender of `received`, from the local address it was sent to.
  static void reply_from_same_address(int fd, msghdr& received, const Bytes& reply) {
    alignas(cmsghdr) char control[256];
    std::size_t control_length = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&received); c != nullptr; c = CMSG_NXTHDR(&received, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info{};
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        info.ipi_spec_dst = info.ipi_addr;
        info.ipi_ifindex = 0;
        control_length = add_control(control, IPPROTO_IP, IP_PKTINFO, &info, sizeof info);
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo info{};
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        control_length = add_control(control, IPPROTO_IPV6, IPV6_PKTINFO, &info, sizeof info);
      }
    }
    iovec io{const_cast<std::uint8_t*>(reply.data()), reply.size()};
    msghdr message{};
    message.msg_name = received.msg_name;
    message.msg_namelen = received.msg_namelen;
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    if (control_length > 0) {
      message.msg_control = control;
      message.msg_controllen = control_length;
    }
    (void)sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  }

  static std::size_t add_control(char* buffer, int level, int type, const void* data, std::size_t size) {
    auto* c = reinterpret_cast<cmsghdr*>(buffer);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(size);
    std::memcpy(CMSG_DATA(c), data, size);
    return CMSG_SPACE(size);
  }

  TokenLog& log_;
  std::vector<Socket> sockets_;
  std::unordered_map<int, std::size_t> socket_index_;
  std::unordered_map<int, Connection> connections_;
  std::deque<Deadline> deadlines_;  // in accept order (= deadline order: one lifetime for all)
  std::uint64_t serial_ = 0;
  std::vector<ListenSpec> bound_;
  std::vector<ListenSpec> taken_;
  int epoll_ = -1;
  int wake_ = -1;
  std::mutex stop_mutex_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Listener> Listener::start(const std::vector<ListenSpec>& specs, TokenLog& log) {
  auto listener = std::make_unique<EpollListener>(log);
  listener->open(specs);
  return listener;
}

}  // namespace netpol::live
