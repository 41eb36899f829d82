#pragma once
// One probe: a TCP connection attempt or a UDP request, carrying a token the destination can report.
// The prober runs every probe of a plan concurrently (non-blocking sockets, one epoll) from the
// network namespace of the calling thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace netpol::live {

enum class L4 { tcp, udp };
std::string to_string(L4 p);

struct Probe {
  std::size_t id = 0;           // the caller's index; results carry it back
  L4 proto = L4::tcp;
  std::string source_address;   // bind to this address first (empty: the kernel chooses)
  std::string device;           // SO_BINDTODEVICE (empty: none): a VPN client probes only through its tunnel
  std::string destination;      // an IPv4 or IPv6 literal
  std::uint16_t port = 0;
  std::string token;            // see token.h: "nv-" and 16 lowercase hex digits
};

// What came back to the prober. It is evidence, not a verdict: verdict.cpp decides, with what the
// destination side saw.
enum class Reply {
  connected,    // TCP handshake completed (SYN-ACK)
  reset,        // TCP RST (ECONNREFUSED on connect)
  unreachable,  // ICMP/ICMPv6 unreachable or prohibited (EHOSTUNREACH, ENETUNREACH, EACCES, ...)
  udp_reply,    // a UDP datagram came back
  timeout,      // nothing within the timeout
  error,        // a local error (bind, socket, no route): never evidence about the network
};
std::string to_string(Reply r);

struct ProbeResult {
  std::size_t id = 0;
  Reply reply = Reply::error;
  int error = 0;                 // errno behind reset/unreachable/error
  std::uint16_t source_port = 0; // the local port used (matched against a capture)
  double elapsed_ms = 0;
};

struct ProberOptions {
  double rate = 4000;                          // probes started per second, at most
  std::chrono::milliseconds timeout{800};      // per probe
  std::chrono::milliseconds total{30000};      // hard bound on the whole run; probes not started get `error`
  unsigned max_in_flight = 512;
};

// Runs every probe and returns one result per probe, in the order of `probes`.
std::vector<ProbeResult> run_probes(const std::vector<Probe>& probes, const ProberOptions& options);

}  // namespace netpol::live
