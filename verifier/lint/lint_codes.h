#pragma once
// Diagnostic codes of the policy lint (`netpolc check`, verifier/lint/): W800-W807, E801.
// Stable: a code is never reused for another meaning. docs/diagnostics.md explains each one.
#include <array>
#include <string_view>

namespace netpol::lint::code {

inline constexpr std::string_view kShadowed = "W800";      // an explicit rule whose every packet earlier rules decide the same way
inline constexpr std::string_view kDenyOverruled = "E801"; // a deny that never takes effect: earlier rules decide all of it, allowing some
inline constexpr std::string_view kAllowOverruled = "W802"; // an allow (or vpn/publish flow) that never takes effect: earlier rules deny some of it
inline constexpr std::string_view kRedundant = "W803";     // an explicit allow whose packets the next matching later rules allow too
inline constexpr std::string_view kMatchesNothing = "W804"; // a rule no packet can match (no shared address family, a host to itself)
inline constexpr std::string_view kUnusedZone = "W805";    // a zone no rule, never, vpn or publish uses (nor its hosts, nor its nested zones)
inline constexpr std::string_view kUnusedHost = "W806";    // a host (not a VM, not the node) no rule, never, vpn or publish names
inline constexpr std::string_view kUnusedService = "W807"; // a service no rule, never, vpn or publish names

struct CodeInfo {
  std::string_view code;
  std::string_view summary;  // one line, for SARIF's rule descriptions
};

inline constexpr std::array<CodeInfo, 8> kAll{{
    {kShadowed, "Rule shadowed by earlier rules: it never decides a packet"},
    {kDenyOverruled, "Deny that never takes effect: earlier rules allow some of its packets"},
    {kAllowOverruled, "Allow that never takes effect: earlier rules deny some of its packets"},
    {kRedundant, "Redundant allow: later rules allow every packet it decides"},
    {kMatchesNothing, "Rule that matches no packet"},
    {kUnusedZone, "Zone defined and never used"},
    {kUnusedHost, "Host defined and never used"},
    {kUnusedService, "Service defined and never used"},
}};

}  // namespace netpol::lint::code
