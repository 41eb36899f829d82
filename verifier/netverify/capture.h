#pragma once
// On a node: a probe seen arriving on a VM's tap interface has passed the node's firewall. A
// packet capture (AF_PACKET) on each tap records the TCP SYNs and UDP datagrams of the probes.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "probe.h"

namespace netpol::live {

struct SeenPacket {
  // A probe (a TCP SYN, a UDP datagram), or a TCP reset: the VM's own answer when nothing listens,
  // seen on its tap even when the way back loses it.
  enum class Kind { probe, reset };
  Kind kind = Kind::probe;
  L4 proto = L4::tcp;
  std::string source;       // address literal
  std::uint16_t source_port = 0;
  std::string destination;  // address literal
  std::uint16_t port = 0;
  auto operator<=>(const SeenPacket&) const = default;
};

class Capture {
 public:
  // Starts capturing on each interface (in the calling thread's namespace) until stop().
  // Throws std::runtime_error naming the interface when one cannot be opened.
  static std::unique_ptr<Capture> start(const std::vector<std::string>& interfaces);
  virtual ~Capture() = default;
  virtual bool seen(const SeenPacket& packet) const = 0;  // thread-safe
  virtual void stop() = 0;
};

}  // namespace netpol::live
