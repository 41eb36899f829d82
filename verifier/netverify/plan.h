#pragma once
// The probe plan: who probes, what is probed, and what the policy expects of each cell. Pure: it
// reads only the IR and the matrix, so it is the same on a node and in the lab, and testable.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cell.h"
#include "ir.h"
#include "matrix.h"

namespace netpol::live {

// Ports probed on every destination besides the policy's own: services people leave open.
const std::vector<ir::ServicePort>& sensitive_ports();

// One end of a probe.
struct LiveEnd {
  enum class Kind {
    zone_probe,  // a probe namespace holding an address of the zone (not any host's)
    host,        // a host of the policy (a VM, the node)
    vpn_client,  // a client of the policy's VPN, inside the tunnel
  };
  Kind kind = Kind::zone_probe;
  std::string name;           // zone or host name
  ir::Endpoint policy_end;    // what Matrix::decide is asked about
  std::string address;        // IPv4 literal; a VPN client's is known only once its tunnel is up
  int prefix = 0;             // of the subnet on its bridge (zone probes and hosts on a bridge)
  std::string bridge;         // "" when none (internet, VPN)
  std::optional<int> vmid;    // a VM
  bool is_node = false;
  // A target enforces traffic to or from it: a VM or the node (Proxmox, ufw), a VPN client (the
  // VPN server routes and filters it). Between two unmanaged ends nothing of the policy's applies,
  // so such pairs are not probed.
  bool managed = false;
};

// How a zone is addressed on its bridge: the subnet, a free address for its probe namespace, and
// the lowest free address (the lab's router; on a node, give --gateway).
struct ZoneAddressing {
  std::string subnet;   // "198.18.1.0/24"
  int prefix = 0;
  std::string probe;    // "198.18.1.254"
  std::string gateway;  // "198.18.1.1"
};

// The addressing of zone `zone` for probing: from its first IPv4 network, avoiding every host's
// address and every nested zone. The catch-all zone (internet) gets, in the lab only, the first /24
// of 198.19.0.0/16 that no zone claims. Empty when the zone has no IPv4 network to probe from.
std::optional<ZoneAddressing> zone_addressing(const ir::Policy& policy, int zone, bool lab);

struct PlanOptions {
  bool lab = false;  // also VMs as sources, zone probes as destinations, the internet and the VPN client
  std::vector<ir::ServicePort> extra_ports;  // --ports (single ports)
  std::vector<std::string> from;             // only these sources (zone or host names); empty: all
};

struct Plan {
  std::vector<LiveEnd> sources;
  std::vector<LiveEnd> destinations;
  std::vector<ir::ServicePort> ports;  // single tcp/udp ports, sorted
  struct Entry {
    std::size_t source = 0, destination = 0;  // indexes into sources / destinations
    Cell cell;                                // expectation filled, observation not yet
  };
  std::vector<Entry> entries;
};

// Every tcp/udp port the policy names (a range by its first and last port), plus sensitive_ports()
// and the extra ones; sorted, unique.
std::vector<ir::ServicePort> ports_of_interest(const ir::Policy& policy,
                                               const std::vector<ir::ServicePort>& extra);

// The expectation of one cell: the policy's verdict (first match, default deny) and the rule, plus
// what Proxmox allows by itself and netpolc's host.fw does not close (corosync from the node's subnet).
struct Expectation {
  bool allowed = false;
  std::string rule;  // "flows.npol:47 allow lan -> extranet : https, http, openvpn", or "default deny"
};
Expectation expect(const ir::Policy& policy, const Matrix& matrix, const LiveEnd& source,
                   const LiveEnd& destination, const ir::ServicePort& port);

Plan make_plan(const ir::Policy& policy, const Matrix& matrix, const PlanOptions& options);

// "tcp/22,udp/53,8080" -> single ports (a bare number is tcp). Throws std::invalid_argument.
std::vector<ir::ServicePort> parse_port_list(const std::string& text);

}  // namespace netpol::live
