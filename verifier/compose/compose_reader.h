#pragma once
// Reads a docker-compose file into what the audit needs: every published port (short and long
// `ports` syntax), every `expose`d port, every service on the host's network, each with its place
// in the file. yaml-cpp parses; this file only interprets the compose keys. See docs/audit.md.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diagnostics.h"
#include "ir.h"
#include "source.h"

namespace netpol::compose {

// Bounds on hostile input: a compose file is a page of text with a handful of levels.
inline constexpr std::size_t kMaxFileBytes = 4 * 1024 * 1024;
inline constexpr int kMaxNesting = 100;  // flow brackets, or indentation columns / 4

struct Service {
  std::string name;
  std::vector<std::string> profiles;  // empty: always started
};

enum class Binding { all, loopback, address };

struct PublishedPort {
  Service service;
  std::string host_ip;                 // as written, without IPv6 brackets; empty: every address
  Binding binding = Binding::all;
  std::optional<ir::PortRange> host;   // none: Docker picks a random host port
  ir::PortRange container;
  ir::Proto proto = ir::Proto::tcp;
  Span span;                           // the short entry, or the long entry's `published`/`target`
  std::string text;                    // the short entry as written; a long one in short syntax
};

struct ExposedPort {  // `expose`: reachable from other containers only, never published
  Service service;
  ir::PortRange container;
  ir::Proto proto = ir::Proto::tcp;
  Span span;
};

struct HostNetwork {  // `network_mode: host`: the container listens on the host's own addresses
  Service service;
  bool lists_ports = false;  // its `ports` are ignored by Docker
  Span span;                 // the `network_mode` entry
};

struct ComposeFile {
  int file = -1;                   // in the SourceSet
  bool readable = false;           // valid YAML within the bounds (E900 otherwise)
  int services = 0;
  Span services_key;               // where `services:` is, for file-wide findings
  std::vector<PublishedPort> published;
  std::vector<ExposedPort> exposed;
  std::vector<HostNetwork> host_network;
};

// Interprets the compose file `file` of `sources`. Not YAML, too large or too deep: E900 and
// `readable` false. An entry it cannot read (a bad port, a variable, a wrong type): E906, skipped.
ComposeFile read_compose(const SourceSet& sources, int file, Diagnostics& diags);

// A short `ports` entry: `[[IP:](PORT|RANGE|):](PORT|RANGE)[/PROTO]`.
struct ShortPort {
  std::string host_ip;
  std::optional<ir::PortRange> host;
  ir::PortRange container;
  ir::Proto proto = ir::Proto::tcp;
};
// The entry, or why it cannot be read (`error` set).
ShortPort parse_short_port(std::string_view text, std::string& error);

// How Docker binds `host_ip`: empty, 0.0.0.0 and :: are every address; 127/8 and ::1 loopback.
// An unreadable address sets `error`.
Binding binding_of(const std::string& host_ip, std::string& error);

std::string range_text(const ir::PortRange& r);  // "8096", "9000-9010"

}  // namespace netpol::compose
