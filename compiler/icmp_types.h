#pragma once
// ICMP type names the language accepts (IPv4 numbering; targets map them to ICMPv6).
// Names, not numbers: Proxmox refuses numeric ICMP types.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netpol {

inline constexpr std::uint16_t kIcmpTypeMax = 255;

struct IcmpType {
  std::string_view name;
  std::uint16_t number;
};

inline constexpr IcmpType kIcmpTypes[] = {
    {"echo-reply", 0},      {"destination-unreachable", 3}, {"redirect", 5},
    {"echo-request", 8},    {"time-exceeded", 11},          {"parameter-problem", 12},
};

inline std::optional<std::uint16_t> icmp_type_number(std::string_view name) {
  for (const auto& t : kIcmpTypes)
    if (t.name == name) return t.number;
  return std::nullopt;
}

inline std::optional<std::string> icmp_type_name(std::uint16_t number) {
  for (const auto& t : kIcmpTypes)
    if (t.number == number) return std::string(t.name);
  return std::nullopt;
}

inline std::vector<std::string> icmp_type_names() {
  std::vector<std::string> out;
  for (const auto& t : kIcmpTypes) out.emplace_back(t.name);
  return out;
}

}  // namespace netpol
