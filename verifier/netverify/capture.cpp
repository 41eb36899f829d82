// Packet capture on the VMs' taps: a cooked AF_PACKET socket per interface (the kernel strips the
// link header), one reader thread, and a set of the TCP SYNs and UDP datagrams seen.
#include "capture.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

namespace netpol::live {

namespace {

constexpr std::size_t max_recorded = 1'000'000;  // a bound on memory, far above any probe plan
constexpr int batch = 256;                       // packets per interface per wake-up
constexpr std::uint8_t ip_tcp = 6;
constexpr std::uint8_t ip_udp = 17;
constexpr std::uint8_t tcp_syn = 0x02;
constexpr std::uint8_t tcp_rst = 0x04;
constexpr std::uint8_t tcp_ack = 0x10;

std::uint16_t read_u16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

std::string address_text(int family, const std::uint8_t* bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes, text, sizeof text);
  return text;
}

// The transport header of `packet` (cooked: the IP header first): TCP SYN or UDP only.
std::optional<SeenPacket> transport(std::uint8_t protocol, const std::uint8_t* l4, std::size_t length) {
  SeenPacket seen;
  if (protocol == ip_tcp) {
    if (length < 20) return std::nullopt;
    const std::uint8_t flags = l4[13];
    if (flags & tcp_rst) seen.kind = SeenPacket::Kind::reset;
    else if ((flags & tcp_syn) == 0 || (flags & tcp_ack) != 0) return std::nullopt;  // the probe's SYN, or a reset
    seen.proto = L4::tcp;
  } else if (protocol == ip_udp) {
    if (length < 8) return std::nullopt;
    seen.proto = L4::udp;
  } else {
    return std::nullopt;
  }
  seen.source_port = read_u16(l4);
  seen.port = read_u16(l4 + 2);
  return seen;
}

std::optional<SeenPacket> parse_ipv4(const std::uint8_t* p, std::size_t length) {
  if (length < 20 || (p[0] >> 4) != 4) return std::nullopt;
  const std::size_t header = static_cast<std::size_t>(p[0] & 0x0f) * 4;
  if (header < 20 || header > length) return std::nullopt;
  if ((read_u16(p + 6) & 0x1fff) != 0) return std::nullopt;  // a later fragment: no ports in it
  auto seen = transport(p[9], p + header, length - header);
  if (!seen) return std::nullopt;
  seen->source = address_text(AF_INET, p + 12);
  seen->destination = address_text(AF_INET, p + 16);
  return seen;
}

std::optional<SeenPacket> parse_ipv6(const std::uint8_t* p, std::size_t length) {
  if (length < 40 || (p[0] >> 4) != 6) return std::nullopt;
  std::uint8_t next = p[6];
  std::size_t at = 40;
  for (int hops = 0; hops < 8; ++hops) {  // skip extension headers, a bounded number of them
    if (next == 0 || next == 43 || next == 60) {  // hop-by-hop, routing, destination options
      if (at + 8 > length) return std::nullopt;
      next = p[at];
      at += (static_cast<std::size_t>(p[at + 1]) + 1) * 8;
    } else if (next == 44) {  // fragment: only the first one carries the ports
      if (at + 8 > length || (read_u16(p + at + 2) & 0xfff8) != 0) return std::nullopt;
      next = p[at];
      at += 8;
    } else {
      break;
    }
  }
  if (at > length) return std::nullopt;
  auto seen = transport(next, p + at, length - at);
  if (!seen) return std::nullopt;
  seen->source = address_text(AF_INET6, p + 8);
  seen->destination = address_text(AF_INET6, p + 24);
  return seen;
}

class PacketCapture final : public Capture {
 public:
  ~PacketCapture() override {
    stop();
    for (const auto& s : sockets_) close(s.fd);
    if (wake_ >= 0) close(wake_);
  }

  void open(const std::vector<std::string>& interfaces) {
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_ < 0) throw std::runtime_error(std::string("capture: eventfd: ") + std::strerror(errno));
    for (const auto& name : interfaces) open_one(name);
    thread_ = std::thread([this] { read_loop(); });
  }

  bool seen(const SeenPacket& packet) const override {
    const std::lock_guard lock(mutex_);
    return seen_.count(packet) > 0;
  }

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
    std::string name;
  };

  void open_one(const std::string& name) {
    const auto failed = [&name](const std::string& why) {
      return std::runtime_error("capture on " + name + ": " + why);
    };
    const unsigned index = if_nametoindex(name.c_str());
    if (index == 0) throw failed(std::strerror(errno));
    // Protocol 0 at first: the socket receives nothing until it is bound to its one interface.
    const int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw failed(std::strerror(errno));
    sockets_.push_back({fd, name});  // closed by the destructor, also when this throws
    const int buffer = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = static_cast<int>(index);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) throw failed(std::strerror(errno));
  }

  void read_loop() {
    std::vector<pollfd> polled;
    for (const auto& s : sockets_) polled.push_back({s.fd, POLLIN, 0});
    polled.push_back({wake_, POLLIN, 0});
    for (;;) {
      if (poll(polled.data(), polled.size(), -1) < 0 && errno != EINTR) return;
      if (polled.back().revents != 0) return;
      for (std::size_t i = 0; i + 1 < polled.size(); ++i)
        if (polled[i].revents != 0) drain(polled[i].fd);
    }
  }

  void drain(int fd) {
    std::uint8_t packet[2048];  // headers are all we read; a longer packet is truncated
    for (int k = 0; k < batch; ++k) {
      sockaddr_ll from{};
      socklen_t from_length = sizeof from;
      const ssize_t n = recvfrom(fd, packet, sizeof packet, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &from_length);
      if (n < 0) return;
      const auto length = static_cast<std::size_t>(n);
      std::optional<SeenPacket> seen;
      if (from.sll_protocol == htons(ETH_P_IP)) seen = parse_ipv4(packet, length);
      else if (from.sll_protocol == htons(ETH_P_IPV6)) seen = parse_ipv6(packet, length);
      if (!seen) continue;
      const std::lock_guard lock(mutex_);
      if (seen_.size() < max_recorded) seen_.insert(std::move(*seen));
    }
  }

  std::vector<Socket> sockets_;
  int wake_ = -1;
  mutable std::mutex mutex_;
  std::set<SeenPacket> seen_;
  std::mutex stop_mutex_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Capture> Capture::start(const std::vector<std::string>& interfaces) {
  auto capture = std::make_unique<PacketCapture>();
  capture->open(interfaces);
  return capture;
}

}  // namespace netpol::live
