#pragma once
// Facts about Proxmox VE 8 firewall files that the emitter, the reader and the
// drift model share. Where pve-firewall (Perl) and proxmox-firewall (Rust) differ,
// these are the intersection: what both accept (shared/formats.md 1).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ip.h"
#include "ir.h"

namespace netpol::proxmox {

inline constexpr int kMaxPortNumbers = 15;            // per port list; a range counts 2 (formats.md 1.6)
inline constexpr std::size_t kMaxGroupName = 18;      // $max_group_name_length
inline constexpr std::size_t kMaxIpsetName = 64;      // [IPSET name]
inline constexpr std::size_t kMaxIpsetRef = 65;       // "+dc/name", with the '+'
inline constexpr std::size_t kMaxAliasRef = 64;       // "dc/name": the scope counts

// formats.md 6.1, the rule every name netpolc writes must fit: ^[a-z][a-z0-9_-]{1,17}$.
bool fits_name_rule(std::string_view name);

// ICMP type names, as `-icmp-type` values. IR types use IPv4 numbering (0..255).
std::optional<std::uint16_t> icmp_v4_type(std::string_view name);    // a type name both parsers accept
std::optional<std::string> icmp_v4_name(std::uint16_t type);
bool icmp_v6_type_known(std::string_view name);                       // a type name both parsers accept
std::optional<std::uint16_t> icmp_v6_to_ir(std::string_view name);   // its IPv4-numbered counterpart
std::optional<std::string> icmp_v6_name(std::uint16_t ir_type);      // the ICMPv6 name of an IR type
bool icmp_code_known(std::string_view name, Family family);          // a code name both accept (a part of a type)

// The tcp ports Proxmox opens on the node to the `management` ipset, which always holds
// the node's own subnet (formats.md 1.8): 8006, 5900:5999, 3128, 22, 60000:60050.
const std::vector<ir::PortRange>& management_ports();

// "443", "5900:5999", joined by ','. Counting: a port is 1 number, a range 2.
std::string port_spec(const std::vector<ir::PortRange>& ranges);
int port_numbers(const ir::PortRange& range);

// Sorted, with overlapping and adjacent ranges joined.
std::vector<ir::PortRange> coalesce(std::vector<ir::PortRange> ranges);

// Split into lists of at most kMaxPortNumbers numbers, in order.
std::vector<std::vector<ir::PortRange>> split_port_lists(const std::vector<ir::PortRange>& ranges);

Cidr any_network(Family family);  // 0.0.0.0/0 or ::/0

}  // namespace netpol::proxmox
