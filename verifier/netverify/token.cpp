#include "token.h"

#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

namespace netpol::live {

namespace {

constexpr std::string_view token_prefix = "nv-";
constexpr std::size_t token_digits = 16;
constexpr std::size_t token_length = 3 + token_digits;
constexpr std::uint16_t dns_port = 53;
constexpr std::uint16_t openvpn_port = 1194;
// OpenVPN: opcode P_CONTROL_HARD_RESET_CLIENT_V2 (7) in the high five bits, key id 0.
constexpr std::uint8_t openvpn_hard_reset_client_v2 = 7 << 3;
constexpr std::size_t openvpn_reset_length = 1 + 8 + 1 + 4;

std::uint64_t random_base() {
  std::uint64_t value = 0;
  if (getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) {
    // No entropy source: still unique within the run, which is all a token needs.
    value = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
            (static_cast<std::uint64_t>(getpid()) << 40);
  }
  return value;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// The token's 64-bit value; the caller has checked the form.
std::uint64_t token_value(const std::string& token) {
  std::uint64_t value = 0;
  for (std::size_t i = token_prefix.size(); i < token.size() && i < token_length; ++i) {
    const int digit = hex_value(token[i]);
    value = (value << 4) | static_cast<std::uint64_t>(digit < 0 ? 0 : digit);
  }
  return value;
}

void append_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

void append_label(std::vector<std::uint8_t>& out, std::string_view label) {
  out.push_back(static_cast<std::uint8_t>(label.size()));
  out.insert(out.end(), label.begin(), label.end());
}

std::vector<std::uint8_t> dns_query(const std::string& token) {
  std::vector<std::uint8_t> out;
  append_u16(out, static_cast<std::uint16_t>(token_value(token) & 0xffff));  // ID
  append_u16(out, 0x0100);  // a standard query, recursion desired
  append_u16(out, 1);       // QDCOUNT
  append_u16(out, 0);       // ANCOUNT
  append_u16(out, 0);       // NSCOUNT
  append_u16(out, 0);       // ARCOUNT
  append_label(out, token);
  append_label(out, "netverify");
  append_label(out, "invalid");
  out.push_back(0);
  append_u16(out, 1);  // QTYPE A
  append_u16(out, 1);  // QCLASS IN
  return out;
}

std::vector<std::uint8_t> openvpn_hard_reset(const std::string& token) {
  std::vector<std::uint8_t> out{openvpn_hard_reset_client_v2};
  const std::uint64_t session = token_value(token);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(session >> shift));
  out.push_back(0);                   // no acknowledgements
  out.insert(out.end(), 4, 0);        // message packet id 0
  return out;
}

std::string format_token(std::uint64_t value) {
  char buffer[token_length + 1];
  std::snprintf(buffer, sizeof buffer, "nv-%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

}  // namespace

std::string make_token() {
  static const std::uint64_t base = random_base();
  static std::atomic<std::uint64_t> counter{0};
  return format_token(base + counter.fetch_add(1, std::memory_order_relaxed));
}

std::vector<std::uint8_t> request_for(L4 proto, std::uint16_t port, const std::string& token) {
  if (proto == L4::udp && port == dns_port) return dns_query(token);
  if (proto == L4::udp && port == openvpn_port) return openvpn_hard_reset(token);
  const std::string line = "NETVERIFY " + token + "\r\n";
  return {line.begin(), line.end()};
}

std::optional<std::string> find_token(std::string_view received) {
  for (std::size_t at = received.find(token_prefix); at != std::string_view::npos;
       at = received.find(token_prefix, at + 1)) {
    if (received.size() - at < token_length) break;
    std::size_t digits = 0;
    while (digits < token_digits && hex_value(received[at + token_prefix.size() + digits]) >= 0) ++digits;
    const bool longer = at + token_length < received.size() && hex_value(received[at + token_length]) >= 0;
    if (digits != token_digits || longer) continue;
    std::string token(received.substr(at, token_length));
    for (char& c : token) c = lower(c);  // a resolver may have randomised the case of a DNS name
    return token;
  }
  return std::nullopt;
}

std::optional<std::string> find_token(L4 proto, std::uint16_t port, const std::vector<std::uint8_t>& received) {
  // The port is not consulted: a port forward may deliver the probe to another port than it was
  // sent to, so every form is recognised on every port. The text forms first: a DNS query's first
  // byte (its ID) may look like an OpenVPN opcode.
  (void)port;
  const std::string_view text(reinterpret_cast<const char*>(received.data()), received.size());
  if (auto token = find_token(text)) return token;
  if (proto == L4::udp && received.size() >= openvpn_reset_length &&
      received[0] == openvpn_hard_reset_client_v2) {
    std::uint64_t session = 0;
    for (std::size_t i = 1; i <= 8; ++i) session = (session << 8) | received[i];
    return format_token(session);
  }
  return std::nullopt;
}

}  // namespace netpol::live
