#include "ip.h"

#include <arpa/inet.h>
#include <charconv>

namespace netpol {

namespace {
int bytes_of(Family f) { return f == Family::v4 ? 4 : 16; }

// Whether the first `prefix` bits of a and b agree.
bool same_prefix(const Cidr& a, const Cidr& b, int prefix) {
  for (int i = 0; i < prefix / 8; ++i)
    if (a.bytes[static_cast<std::size_t>(i)] != b.bytes[static_cast<std::size_t>(i)]) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  auto i = static_cast<std::size_t>(prefix / 8);
  return (a.bytes[i] & mask) == (b.bytes[i] & mask);
}
}  // namespace

bool Cidr::contains(const Cidr& other) const {
  return family == other.family && prefix <= other.prefix && same_prefix(*this, other, prefix);
}

bool Cidr::overlaps(const Cidr& other) const { return contains(other) || other.contains(*this); }

std::string Cidr::str(bool host_form) const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == Family::v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  std::string out(buf);
  if (!(host_form && is_host())) out += "/" + std::to_string(prefix);
  return out;
}

CidrParse parse_cidr(std::string_view text) {
  CidrParse result;
  std::string_view addr = text;
  std::optional<int> prefix;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    auto digits = text.substr(slash + 1);
    int value = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value < 0) {
      result.error = "'" + std::string(digits) + "' is not a prefix length";
      return result;
    }
    prefix = value;
  }
  Cidr cidr;
  std::string addr_text(addr);
  if (inet_pton(AF_INET, addr_text.c_str(), cidr.bytes.data()) == 1) {
    cidr.family = Family::v4;
  } else if (inet_pton(AF_INET6, addr_text.c_str(), cidr.bytes.data()) == 1) {
    cidr.family = Family::v6;
  } else {
    result.error = "'" + std::string(text) + "' is not an IPv4 or IPv6 address";
    return result;
  }
  cidr.prefix = prefix.value_or(cidr.max_prefix());
  if (cidr.prefix > cidr.max_prefix()) {
    result.error = "prefix /" + std::to_string(cidr.prefix) + " is longer than " +
                   std::to_string(cidr.max_prefix()) + " bits";
    return result;
  }
  Cidr network = cidr;
  for (int bit = cidr.prefix; bit < bytes_of(cidr.family) * 8; ++bit)
    network.bytes[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  if (network != cidr) {
    result.canonical = network;
    result.error = "'" + std::string(text) + "' has host bits set";
    return result;
  }
  result.cidr = cidr;
  return result;
}

}  // namespace netpol
