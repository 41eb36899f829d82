#pragma once
// The syntax tree: what the policy text says, names still unresolved.
// Only resolve.cpp reads it; every later stage reads the IR (ir.h).
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "source.h"

namespace netpol::ast {

struct Name {
  std::string text;
  Span span;
};

// "tcp/80,443", "udp/5000-5010", "icmp", "icmp/echo-request"
struct PortRange {
  long first = 0;  // as written; resolve checks 1..65535
  long last = 0;
  Span span;
};

struct PortSpec {
  std::string proto;  // tcp | udp | icmp
  std::vector<PortRange> ports;          // tcp/udp; empty = every port
  std::optional<Name> icmp_type;         // icmp only; empty = every type
  Span span;
};

// In a rule's service list: a service name (or `any`), or an inline spec.
struct ServiceRef {
  std::variant<Name, PortSpec> ref;
  Span span() const;
};

struct AddressDecl {  // address NAME CIDR, CIDR ...
  Name target;
  std::vector<Name> addresses;  // text as written, parsed by resolve
  Span span;
};

struct ZoneDecl {  // zone NAME [in PARENT] { bridge IF }
  Name name;
  std::optional<Name> parent;
  std::optional<Name> bridge;
  Span span;
};

struct HostDecl {  // host NAME in ZONE { vmid N  docker "compose.yml" }   |   node NAME in ZONE
  Name name;
  Name zone;
  bool is_node = false;
  std::optional<long> vmid;
  Span vmid_span;
  Span span;
  bool docker = false;
  std::vector<Name> compose_files;  // as written, relative to the declaring file's folder
};

struct ServiceDecl {  // service NAME SPEC, SPEC ...
  Name name;
  std::vector<PortSpec> specs;
  Span span;
};

enum class RuleKind { allow, deny, never };

struct RuleDecl {  // allow|deny|never SRC, ... -> DST, ... : SERVICE, ...
  RuleKind kind = RuleKind::allow;
  std::vector<Name> sources;
  std::vector<Name> destinations;
  std::vector<ServiceRef> services;
  Span span;
};

struct VpnDecl {  // vpn NAME on HOST { listen SERVICE from ZONES  pool ZONE  route DESTS }
  Name name;
  Name server;
  std::optional<ServiceRef> listen;
  std::vector<Name> listen_from;
  std::optional<Name> pool;
  std::vector<Name> routes;
  Span span;
};

struct PublishDecl {  // publish DOMAIN on PROXY -> BACKEND:SERVICE { tls websocket from ZONES }
  Name domain;
  Name proxy;
  Name backend;
  Name service;
  bool tls = false;
  bool websocket = false;
  std::vector<Name> from;
  Span span;
};

inline Span ServiceRef::span() const {
  return std::visit([](const auto& r) { return r.span; }, ref);
}

using Statement = std::variant<AddressDecl, ZoneDecl, HostDecl, ServiceDecl, RuleDecl, VpnDecl, PublishDecl>;

// All statements of the entry file and its includes, in reading order
// (an include's statements stand where the include stood).
struct Policy {
  std::vector<Statement> statements;
};

}  // namespace netpol::ast
