#pragma once
// Every diagnostic code netpolc can print. Codes are stable: a code is never
// reused for another meaning. docs/diagnostics.md explains each one, and a test
// checks that every code here is documented there.
#include <string_view>

namespace netpol::code {

// E1xx: syntax
inline constexpr std::string_view kSyntax = "E100";           // the text does not follow the grammar
inline constexpr std::string_view kBadName = "E101";          // a name breaks the naming rule
inline constexpr std::string_view kReservedName = "E102";     // a keyword used as a name
inline constexpr std::string_view kBadNumber = "E103";        // a number out of range (VM id)
inline constexpr std::string_view kRepeatedProperty = "E104"; // a block property given twice (bridge, vmid, listen, pool)
// E2xx: names
inline constexpr std::string_view kUnknownName = "E200";      // a reference to nothing defined
inline constexpr std::string_view kDuplicate = "E201";        // the same name defined twice
inline constexpr std::string_view kWrongKind = "E202";        // a name of the wrong kind (service where a zone is needed)
inline constexpr std::string_view kDuplicateVmid = "E203";    // two VMs with one VM id
// E3xx: addresses and topology
inline constexpr std::string_view kBadAddress = "E300";       // not an IPv4/IPv6 address or CIDR
inline constexpr std::string_view kNonCanonical = "E301";     // a CIDR with host bits set
inline constexpr std::string_view kOutsideZone = "E302";      // a host address outside its zone's network
inline constexpr std::string_view kZoneOverlap = "E303";      // two unrelated zones share addresses
inline constexpr std::string_view kNotNested = "E304";        // a nested zone not inside its parent
inline constexpr std::string_view kMissingAddress = "E305";   // a zone or host without addresses
inline constexpr std::string_view kAddressTwice = "E306";     // addresses given twice for one name
inline constexpr std::string_view kSharedAddress = "E307";    // two hosts with one address
inline constexpr std::string_view kZoneCycle = "E308";        // zones nested in a circle
inline constexpr std::string_view kHostPrefix = "E309";       // a host address with a network prefix
inline constexpr std::string_view kNoBridge = "E310";         // a VM whose zone has no bridge
inline constexpr std::string_view kBadInterface = "E311";     // a bridge name the kernel or Proxmox refuses
// E4xx: services, flows, invariants, published names, VPN
inline constexpr std::string_view kBadPort = "E400";          // port 0, over 65535, or a reversed range
inline constexpr std::string_view kNeverViolated = "E401";    // an allowed flow contradicts a `never`
inline constexpr std::string_view kBadDomain = "E402";        // a published name that is not a DNS name
inline constexpr std::string_view kPublishPort = "E403";      // a published backend (one tcp port) or VPN listener (one port) of another size
inline constexpr std::string_view kBadIcmpType = "E404";      // an unknown ICMP type name
inline constexpr std::string_view kDuplicateDomain = "E405";  // one name published twice
inline constexpr std::string_view kVpnPool = "E406";          // a VPN pool zone that is not one IPv4 network (+ at most one IPv6)
inline constexpr std::string_view kNobodyMayUse = "E407";     // a published name without `from`
inline constexpr std::string_view kVpnIncomplete = "E408";    // a VPN block without listen or pool
// E5xx: files
inline constexpr std::string_view kIncludeCycle = "E500";     // a file includes itself, directly or not
inline constexpr std::string_view kIncludeMissing = "E501";   // a policy or included file cannot be read
inline constexpr std::string_view kIncludeDepth = "E502";     // includes nested too deep
inline constexpr std::string_view kIncludedTwice = "E503";    // one file included twice
// W6xx: warnings (exit code stays 0)
inline constexpr std::string_view kVpnUnrouted = "W600";      // a VPN flow to a destination no pushed route reaches

}  // namespace netpol::code
