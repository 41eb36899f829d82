#include "proxmox_facts.h"

#include <algorithm>

namespace netpol::proxmox {

namespace {

struct IcmpName {
  std::string_view name;
  std::uint16_t type;
};

// Perl's $icmp_type_names (iptables -p icmp -h) intersected with Rust's ICMP_TYPES.
constexpr IcmpName kV4Types[] = {
    {"echo-reply", 0},           {"destination-unreachable", 3}, {"source-quench", 4},
    {"redirect", 5},             {"echo-request", 8},            {"router-advertisement", 9},
    {"router-solicitation", 10}, {"time-exceeded", 11},          {"parameter-problem", 12},
    {"timestamp-request", 13},   {"timestamp-reply", 14},        {"address-mask-request", 17},
    {"address-mask-reply", 18},
};

// Perl's $icmpv6_type_names intersected with Rust's ICMPV6_TYPES, with the IPv4-numbered
// type of the policy language they stand for. `redirect` is Perl-only (Rust: `nd-redirect`),
// so an ICMP redirect cannot be written for IPv6.
constexpr std::uint16_t kNoCounterpart = 0xffff;
constexpr IcmpName kV6Types[] = {
    {"echo-reply", 0},         {"destination-unreachable", 3}, {"echo-request", 8},
    {"time-exceeded", 11},     {"parameter-problem", 12},      {"packet-too-big", kNoCounterpart},
};

// Names both parsers take that are codes of one type (Rust parses them as codes).
constexpr std::string_view kV4Codes[] = {"host-unreachable", "port-unreachable", "host-prohibited"};
constexpr std::string_view kV6Codes[] = {"no-route", "port-unreachable"};

}  // namespace

bool fits_name_rule(std::string_view name) {
  if (name.size() < 2 || name.size() > 18) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::optional<std::uint16_t> icmp_v4_type(std::string_view name) {
  for (const auto& t : kV4Types)
    if (t.name == name) return t.type;
  return std::nullopt;
}

std::optional<std::string> icmp_v4_name(std::uint16_t type) {
  for (const auto& t : kV4Types)
    if (t.type == type) return std::string(t.name);
  return std::nullopt;
}

bool icmp_v6_type_known(std::string_view name) {
  return std::any_of(std::begin(kV6Types), std::end(kV6Types), [&](const IcmpName& t) { return t.name == name; });
}

std::optional<std::uint16_t> icmp_v6_to_ir(std::string_view name) {
  for (const auto& t : kV6Types)
    if (t.name == name && t.type != kNoCounterpart) return t.type;
  return std::nullopt;
}

std::optional<std::string> icmp_v6_name(std::uint16_t ir_type) {
  for (const auto& t : kV6Types)
    if (t.type == ir_type) return std::string(t.name);
  return std::nullopt;
}

bool icmp_code_known(std::string_view name, Family family) {
  if (family == Family::v4) return std::find(std::begin(kV4Codes), std::end(kV4Codes), name) != std::end(kV4Codes);
  return std::find(std::begin(kV6Codes), std::end(kV6Codes), name) != std::end(kV6Codes);
}

const std::vector<ir::PortRange>& management_ports() {
  static const std::vector<ir::PortRange> ports{{8006, 8006}, {5900, 5999}, {3128, 3128}, {22, 22}, {60000, 60050}};
  return ports;
}

int port_numbers(const ir::PortRange& range) { return range.first == range.last ? 1 : 2; }

std::string port_spec(const std::vector<ir::PortRange>& ranges) {
  std::string out;
  for (const auto& r : ranges) {
    if (!out.empty()) out += ',';
    out += std::to_string(r.first);
    if (r.last != r.first) out += ':' + std::to_string(r.last);
  }
  return out;
}

std::vector<ir::PortRange> coalesce(std::vector<ir::PortRange> ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::vector<ir::PortRange> out;
  for (const auto& r : ranges) {
    if (!out.empty() && static_cast<long>(r.first) <= static_cast<long>(out.back().last) + 1) {
      out.back().last = std::max(out.back().last, r.last);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::vector<std::vector<ir::PortRange>> split_port_lists(const std::vector<ir::PortRange>& ranges) {
  std::vector<std::vector<ir::PortRange>> lists;
  int count = kMaxPortNumbers;  // forces a first list
  for (const auto& r : ranges) {
    if (count + port_numbers(r) > kMaxPortNumbers) {
      lists.emplace_back();
      count = 0;
    }
    lists.back().push_back(r);
    count += port_numbers(r);
  }
  return lists;
}

Cidr any_network(Family family) {
  Cidr c;
  c.family = family;
  c.prefix = 0;
  return c;
}

}  // namespace netpol::proxmox
