#pragma once
// Diagnostic codes of the NPM and plain-nginx targets (E720-E729, W720). Stable: never reused.
// Each is reported at the `publish` statement it concerns (E725: at no place, it is an option).
#include <string_view>

namespace netpol::npm::code {

inline constexpr std::string_view kBadDomain = "E720";        // a published name NPM or nginx could misread
inline constexpr std::string_view kNoIpv4Backend = "E721";    // the backend host has no IPv4 address
inline constexpr std::string_view kBadBackendPort = "E722";   // the backend is not one tcp port 1-65535
inline constexpr std::string_view kBadAccessList = "E723";    // the access list's name is unusable (pattern, length, clash)
inline constexpr std::string_view kBadClientAddress = "E724"; // a client network NPM's schema or nginx would refuse
inline constexpr std::string_view kForgeableRealIp = "W720";  // RFC 1918 clients outside `from` reach NPM and can forge X-Real-IP
inline constexpr std::string_view kBadOption = "E725";        // a deployment option (nginx certificate folder) unusable in a config

}  // namespace netpol::npm::code
