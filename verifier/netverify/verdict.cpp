#include "verdict.h"

#include <cerrno>
#include <cstring>

namespace netpol::live {

namespace {

std::string came_back(const ProbeResult& r) {
  switch (r.reply) {
    case Reply::reset: return "TCP reset";
    case Reply::unreachable: return std::string("ICMP unreachable (") + std::strerror(r.error) + ")";
    case Reply::timeout: return "no answer";
    default: return to_string(r.reply);
  }
}

}  // namespace

std::pair<Verdict, std::string> decide(const Evidence& e) {
  const auto& r = e.result;
  if (!e.destination_up) return {Verdict::inconclusive, e.destination + " is down"};
  if (r.reply == Reply::error && (r.error == EPERM || r.error == EACCES))  // the source's own firewall (a VM's ufw)
    return {Verdict::blocked, "refused by the source's own firewall (" + std::string(std::strerror(r.error)) + ")"};
  if (r.reply == Reply::error)
    return {Verdict::inconclusive, std::string("local error: ") + (r.error ? std::strerror(r.error) : "not sent")};
  if (e.token_seen) return {Verdict::delivered, "token seen at " + e.destination};
  // A handshake or an answer can only come from the destination's own socket.
  if (r.reply == Reply::connected) return {Verdict::delivered, "handshake with " + e.destination + "'s service"};
  if (r.reply == Reply::udp_reply) return {Verdict::delivered, "answer from " + e.destination};

  if (e.listening == true)  // the port is held, so whatever came back came from a firewall
    return {Verdict::blocked, came_back(r) + "; " + e.destination + " listens on the port and saw no token"};

  if (e.seen_on_tap == false) return {Verdict::blocked, came_back(r) + "; never reached the VM's NIC"};
  if (e.seen_on_tap == true) {  // past the node's firewall; what the VM did decides
    if (r.reply == Reply::reset) return {Verdict::nothing_listening, "reached the VM's NIC; reset: nothing listens"};
    if (e.reset_on_tap)  // the reset was lost on its way back (a second pass through the node's conntrack)
      return {Verdict::nothing_listening, "reached the VM's NIC; the VM answered with a reset: nothing listens"};
    if (r.reply == Reply::timeout && e.proto == L4::udp)
      return {Verdict::inconclusive, "reached the VM's NIC; UDP silence proves nothing"};
    return {Verdict::blocked, "reached the VM's NIC; " + came_back(r) + ": the VM's own firewall"};
  }
  if (e.listening == false) {
    // Linux answers a closed TCP port with a reset, so silence means a DROP. A reset proves nothing:
    // a REJECT rule sends one too.
    if (r.reply == Reply::timeout) return {Verdict::blocked, "no answer; nothing listens, so a DROP"};
    if (r.reply == Reply::unreachable) return {Verdict::blocked, came_back(r)};
    return {Verdict::inconclusive, came_back(r) + "; nothing listens: a REJECT rule and a closed port look alike"};
  }
  return {Verdict::inconclusive, came_back(r) + "; nothing seen at the destination"};
}

}  // namespace netpol::live
