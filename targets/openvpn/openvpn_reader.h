#pragma once
// A small reader of OpenVPN 2.6 option files (server.conf, ccd/<CN>), lexed like
// openvpn's own parse_line (options.c): one option per line; a word starting with
// '#' or ';' starts a comment; "..." and '...' quote; outside single quotes a
// backslash escapes the next character. Used by the tests to read the emitted files
// back, and by the emitter to check that every value is a plain word.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ip.h"

namespace netpol::openvpn {

struct Option {
  int line = 0;
  std::string name;
  std::vector<std::string> args;
};

struct Config {
  std::vector<Option> options;
  std::vector<std::string> comments;  // whole-line comments, without the marker
  std::vector<std::string> errors;    // "LINE: what"
};

// The words of one line; nullopt (and `error`) for an unclosed quote or a trailing backslash.
std::optional<std::vector<std::string>> split_words(std::string_view line, std::string* error = nullptr);

Config parse_config(std::string_view text);

// A value that needs no quoting and cannot be misread: printable ASCII without blanks,
// '#', ';', quotes or backslashes (shared/formats.md 4.1).
bool plain_value(std::string_view value);

// The network of a `route NET MASK` / `route NET` / `route-ipv6 NET/BITS` option's words
// (the words of a pushed option, such as {"route", "198.18.10.0", "255.255.255.0"}).
std::optional<Cidr> route_network(const std::vector<std::string>& words);

// The networks pushed as routes in a config: every push "route ..." and push "route-ipv6 ...".
std::vector<Cidr> pushed_routes(const Config& config);

}  // namespace netpol::openvpn
