#pragma once
// Diagnostic codes of the Proxmox target (E700-E709). Stable: never reused. Each is
// reported at the zone, host or rule it concerns, and names the Proxmox target.
#include <string_view>

namespace netpol::proxmox::code {

inline constexpr std::string_view kNameTooLong = "E700";    // a derived name (<zone>-rest, <host>-v4) breaks the 2-18 name rule
inline constexpr std::string_view kCannotExpress = "E701";  // an ICMP type without a name both daemons accept, a second node
inline constexpr std::string_view kNameClash = "E702";      // a derived name another ipset or alias already has
inline constexpr std::string_view kReservedName = "E703";   // management, blacklist (ipsets), local_network (alias)

}  // namespace netpol::proxmox::code
