#pragma once
// IPv4/IPv6 addresses and networks, parsed strictly and printed canonically.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netpol {

enum class Family { v4, v6 };

struct Cidr {
  Family family = Family::v4;
  std::array<std::uint8_t, 16> bytes{};  // v4 uses the first 4
  int prefix = 0;

  int max_prefix() const { return family == Family::v4 ? 32 : 128; }
  bool is_host() const { return prefix == max_prefix(); }
  bool contains(const Cidr& other) const;  // other lies wholly inside this
  bool overlaps(const Cidr& other) const;
  // Canonical text: the address as inet_ntop prints it; "/N" omitted for a single host
  // only when `host_form` is true.
  std::string str(bool host_form = false) const;
  auto operator<=>(const Cidr&) const = default;
};

struct CidrParse {
  std::optional<Cidr> cidr;
  std::string error;             // why it is not an address
  std::optional<Cidr> canonical; // set when the text has host bits set: the network it would be
};

// "198.18.1.0/24", "2001:db8::/32", "198.18.1.5" (a /32). Host bits set is an error,
// with the canonical network offered.
CidrParse parse_cidr(std::string_view text);

}  // namespace netpol
