#pragma once
// The destination side of the lab: listeners on every probed port of a host, which report the
// token of every probe that reaches them. A probe whose token was seen was delivered, whatever the
// prober saw come back.
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "probe.h"

namespace netpol::live {

class TokenLog {  // shared by every listener of a run; thread-safe
 public:
  void record(const std::string& token);
  bool seen(const std::string& token) const;
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::set<std::string> tokens_;
};

struct ListenSpec {
  std::string address;  // an IPv4 or IPv6 literal of the host ("0.0.0.0" / "::" for any)
  L4 proto = L4::tcp;
  std::uint16_t port = 0;
};

class Listener {
 public:
  // Binds every spec in the network namespace of the calling thread, then serves them from its
  // own thread until stop() or destruction. A port already taken (a real service: nginx, openvpn)
  // is listed in taken(), not an error. Replies: TCP "NETVERIFY OK\n" (an HTTP 200 to an HTTP
  // request), UDP a DNS answer (NXDOMAIN) to a DNS query, else the datagram echoed.
  static std::unique_ptr<Listener> start(const std::vector<ListenSpec>& specs, TokenLog& log);
  virtual ~Listener() = default;
  virtual const std::vector<ListenSpec>& bound() const = 0;
  virtual const std::vector<ListenSpec>& taken() const = 0;
  virtual void stop() = 0;
};

}  // namespace netpol::live
