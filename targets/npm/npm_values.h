#pragma once
// Validators for every value the NPM and nginx targets write, and that `netpolc npm apply`
// sends (shared/formats.md 3.5, 6.1). Values that reach NPM land unescaped in nginx config:
// each check is a whitelist, and a value that fails is refused, never repaired.
#include <string>
#include <string_view>

namespace netpol::npm {

// A published name: lower-case LDH labels (1-63 characters, no leading or trailing '-'), at
// least two labels, 253 characters at most, optionally starting with "*." (a wildcard).
bool valid_domain(std::string_view name);

// A dotted-decimal IPv4 address as inet_ntop prints it (no leading zeros, each octet 0-255).
bool valid_ipv4(std::string_view text);

// NPM's forward_host as formats.md 3.5 allows it: an IPv4 address, or a host name of
// letters, digits, '.' and '-' (at most 253 characters). Never an IPv6 address.
bool valid_forward_host(std::string_view text);

// A custom location path (formats.md 3.5): ^/[A-Za-z0-9._~/%-]*$. netpol emits none, and
// `npm apply` refuses any; kept so the rule lives in one place.
bool valid_location_path(std::string_view text);

// An access list that netpol manages: "netpol-" then one or more policy names (zones or
// hosts, ^[a-z][a-z0-9_-]{1,17}$) joined by '+', 64 characters at most.
inline constexpr std::string_view kAccessListPrefix = "netpol-";
inline constexpr std::size_t kMaxAccessListName = 64;
bool valid_access_list_name(std::string_view name);

// A client network for an access list: canonical CIDR text (as netpol prints it, with the
// prefix length) that NPM's own `address` pattern also accepts (its IPv6 pattern is buggy,
// formats.md 3.3, so both are checked).
bool valid_client_address(std::string_view text);

// NPM's `address` schema alone (common.json#/properties/address), regexes copied verbatim.
bool npm_schema_accepts_address(const std::string& text);

// The file name a published name gets under out/nginx/: "<name>.conf", with a leading "*."
// written as "_wildcard." ('_' cannot start a valid name, so the two cannot clash).
std::string nginx_file_name(std::string_view domain);

}  // namespace netpol::npm
