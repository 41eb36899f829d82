#pragma once
// Diagnostic codes of the compose audit (`netpolc audit POLICY --compose`, verifier/compose/):
// E900-E902, E906, W903-W905, W907. Stable: a code is never reused for another meaning.
// docs/diagnostics.md explains each one.
#include <array>
#include <string_view>

namespace netpol::compose::code {

inline constexpr std::string_view kUnreadable = "E900";   // the compose file cannot be read, is not YAML, or is too large or deep
inline constexpr std::string_view kExposed = "E901";      // a port published beyond localhost that no flow of the policy allows
inline constexpr std::string_view kKeptLocal = "E902";    // a port published beyond localhost that a `never` keeps from the host
inline constexpr std::string_view kPortRemapped = "W903"; // host port != container port: the policy names the host's, containers use the other
inline constexpr std::string_view kHostNetwork = "W904";  // `network_mode: host`: the container's ports cannot be audited
inline constexpr std::string_view kRandomPort = "W905";   // a container port published on a random host port
inline constexpr std::string_view kBadEntry = "E906";     // a ports entry, or a compose structure, that cannot be read
inline constexpr std::string_view kNotDocker = "W907";    // a compose file for a host the policy does not declare `docker`

struct CodeInfo {
  std::string_view code;
  std::string_view summary;  // one line, for SARIF's rule descriptions
};

inline constexpr std::array<CodeInfo, 8> kAll{{
    {kUnreadable, "Compose file that cannot be read or is not valid YAML"},
    {kExposed, "Published container port that no flow of the policy allows"},
    {kKeptLocal, "Published container port that a never invariant keeps local"},
    {kPortRemapped, "Published host port differs from the container port the firewall matches"},
    {kHostNetwork, "Container on the host's network: its ports cannot be audited"},
    {kRandomPort, "Container port published on a random host port"},
    {kBadEntry, "Compose entry that cannot be read"},
    {kNotDocker, "Compose file for a host the policy does not declare as a Docker host"},
}};

}  // namespace netpol::compose::code
