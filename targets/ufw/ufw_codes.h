#pragma once
// Diagnostic codes of the UFW target (E710-E719, W710). Stable: never reused.
#include <string_view>

namespace netpol::ufw::code {

inline constexpr std::string_view kBadHostName = "E710";  // a VM name unusable as a ufw file name or shell word
inline constexpr std::string_view kTwoVpns = "E711";      // one VM serves two VPNs: ufw knows one tunnel interface
inline constexpr std::string_view kBadValue = "E712";     // an address, port or comment ufw would refuse or misread
inline constexpr std::string_view kIcmpDropped = "W710";  // an ICMP flow ufw cannot allow: the VM's ufw drops it

}  // namespace netpol::ufw::code
