#pragma once
// Diagnostic codes of the OpenVPN target (E730-E737). Stable: never reused.
// Each is reported at the `vpn` statement (with a note at the host or rule concerned).
// docs/targets/openvpn.md explains each one.
#include <string_view>

namespace netpol::openvpn::code {

inline constexpr std::string_view kPool = "E730";           // a pool OpenVPN cannot serve: no IPv4, IPv4 not /16../29, IPv6 not /64../124, nested zones
inline constexpr std::string_view kListen = "E731";         // a listener that is not exactly one udp or tcp port
inline constexpr std::string_view kClientAddress = "E732";  // a client's fixed address OpenVPN cannot push (reserved, in the IPv6 dynamic pool, no IPv4)
inline constexpr std::string_view kPoolFull = "E733";       // the clients' fixed addresses leave no room for the dynamic pool
inline constexpr std::string_view kCatchAllRoute = "E734";  // a route to the catch-all zone (would pull the tunnel into itself)
inline constexpr std::string_view kUnsafeValue = "E735";    // a value that cannot be written safely (path or name with blanks, #, ;, quotes, backslash)
inline constexpr std::string_view kSharedServer = "E736";   // two VPNs on one host: one server.conf and one tun0 per host
inline constexpr std::string_view kSharedPool = "E737";     // two VPNs with one pool zone: two servers would hand out the same addresses

}  // namespace netpol::openvpn::code
