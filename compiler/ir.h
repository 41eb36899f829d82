#pragma once
// The one IR: what every target and every verifier reads. Names are resolved to
// indices, addresses are canonical, flows are expanded into the resolved matrix,
// and every element carries where it came from in the policy text.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ip.h"
#include "source.h"

namespace netpol::ir {

struct Location {
  Span span;
  std::string file;  // relative to the entry file's folder
  int line = 0;
  int column = 0;
  std::string where() const { return file + ":" + std::to_string(line); }
};

struct Zone {
  std::string name;
  Location location;
  std::optional<int> parent;     // the zone it is nested in, as the policy states
  std::vector<int> children;
  std::vector<Cidr> networks;    // canonical, sorted
  std::string bridge;            // its own or its parent's; empty when none
  bool catch_all = false;        // holds a /0: every address no other zone claims
};

struct Host {
  std::string name;
  Location location;
  int zone = -1;
  std::vector<Cidr> addresses;   // single addresses (/32, /128), sorted
  std::optional<int> vmid;       // a Proxmox VM
  bool is_node = false;          // the Proxmox node itself
  bool docker = false;           // runs Docker: published container ports bypass its INPUT chain
  struct ComposeFile {
    std::string path;            // as written, resolved against the declaring file's folder
    Location location;
  };
  std::vector<ComposeFile> compose_files;  // its docker-compose files, for `netpolc audit --compose`
  std::string bridge;            // from its zone
};

enum class Proto { tcp, udp, icmp };
std::string to_string(Proto p);

struct PortRange {  // tcp/udp ports 1..65535; icmp types 0..255 (IPv4 numbering)
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  auto operator<=>(const PortRange&) const = default;
};

struct ServicePort {
  Proto proto = Proto::tcp;
  PortRange range;
  auto operator<=>(const ServicePort&) const = default;
  std::string str() const;  // "tcp/443", "udp/5000-5010", "icmp", "icmp/echo-request"
};

struct Service {
  std::string name;
  Location location;
  std::vector<ServicePort> ports;
};

struct Endpoint {
  enum class Kind { zone, host };
  Kind kind = Kind::zone;
  int id = -1;
  auto operator<=>(const Endpoint&) const = default;
};

struct RuleService {
  std::optional<int> service;  // the named service, if the rule named one (`any` and inline specs: none)
  ServicePort port;
};

enum class Action { allow, deny };
enum class Origin { rule, vpn, publish };

struct Rule {
  Action action = Action::allow;
  Origin origin = Origin::rule;
  int origin_index = -1;  // into vpns or publishes
  std::vector<Endpoint> sources;
  std::vector<Endpoint> destinations;
  std::vector<RuleService> services;
  Location location;
  std::string text;  // the statement on one line, comments removed
};

struct Invariant {  // never SRC -> DST : SERVICES
  std::vector<Endpoint> sources;
  std::vector<Endpoint> destinations;
  std::vector<RuleService> services;
  Location location;
  std::string text;
};

struct Vpn {
  std::string name;
  Location location;
  int server = -1;                 // host
  ServicePort listen;              // e.g. udp/1194
  std::vector<Endpoint> listen_from;
  int pool = -1;                   // the client zone
  std::vector<Endpoint> routes;    // pushed to clients
};

struct Publish {
  std::string domain;
  Location location;
  int proxy = -1;                  // host running the reverse proxy
  int backend = -1;                // host
  int service = -1;
  ServicePort backend_port;        // one tcp port
  ServicePort listen_port;         // tcp/443 with tls, tcp/80 without
  bool tls = false;
  bool websocket = false;
  std::vector<Endpoint> from;      // who may use the name
};

// One side of a resolved flow: a host, a whole zone, or a zone without some of its hosts.
struct FlowEnd {
  Endpoint endpoint;
  std::vector<int> except_hosts;   // only for zones; sorted
  auto operator<=>(const FlowEnd&) const = default;
};

// One row of the resolved matrix: what is allowed, and the rule that decides it.
struct Flow {
  FlowEnd source;
  FlowEnd destination;
  Proto proto = Proto::tcp;
  PortRange ports;
  int rule = -1;
};

struct SourceFileInfo {
  std::string path;    // relative to the entry file's folder
  std::string sha256;
};

struct Policy {
  std::string entry;                     // the entry file's name
  std::string policy_sha256;             // over every source file, see docs/architecture.md
  std::vector<SourceFileInfo> sources;   // in reading order
  std::vector<Zone> zones;
  std::vector<Host> hosts;
  std::vector<Service> services;
  std::vector<Rule> rules;               // allow and deny, in policy order (first match wins)
  std::vector<Invariant> invariants;
  std::vector<Vpn> vpns;
  std::vector<Publish> publishes;
  std::vector<Flow> flows;               // the resolved matrix, by rule order

  std::string name_of(const Endpoint& e) const {
    return e.kind == Endpoint::Kind::zone ? zones[static_cast<std::size_t>(e.id)].name
                                          : hosts[static_cast<std::size_t>(e.id)].name;
  }
  // "lan", "vm-extranet", "extranet (other than vm-extranet)": how every output names a flow end.
  std::string describe(const FlowEnd& end) const;
  std::optional<int> find_zone(const std::string& name) const;
  std::optional<int> find_host(const std::string& name) const;
};

}  // namespace netpol::ir
