#pragma once
// What each OpenVPN server gets, computed from the IR alone (no text yet):
// listener, pool, pushed routes, client-to-client, and the clients' fixed
// addresses and own routes. openvpn_target.cpp renders it; tests read it.
//
// Clients: the language has no client statement. Every host whose zone is a VPN's
// pool zone is a client of that VPN; its name is its certificate's common name
// and its addresses are fixed (ccd/<name>: ifconfig-push, ifconfig-ipv6-push).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "diagnostics.h"
#include "ip.h"
#include "ir.h"

namespace netpol::openvpn {

struct Client {
  int host = -1;
  std::string name;                // the certificate's common name = ccd file name
  Cidr v4;                         // its fixed IPv4 address (/32)
  std::optional<Cidr> v6;          // its fixed IPv6 address (/128), when the pool has IPv6
  std::vector<Cidr> routes;        // pushed to this client only: what it may reach beyond the server-wide routes
  std::vector<int> route_rules;    // the rules that allow those destinations
  std::vector<std::string> unrouted;  // destinations it may reach that are not pushed, and why
};

struct Server {
  int vpn = -1;
  std::string dir;                 // "openvpn" with one VPN, "openvpn/<vpn>" with several
  ir::ServicePort listen;          // one udp or tcp port
  Cidr pool4;                      // the pool zone's IPv4 network
  std::optional<Cidr> pool6;       // and its IPv6 network
  std::vector<Cidr> routes;        // pushed to every client: the `route` list, exact, aggregated
  std::vector<std::string> unrouted;  // parts of the `route` list not pushed, and why
  // client-to-client: only when the policy allows the pool every tcp and udp port and
  // every ICMP type to itself (else OpenVPN would switch more than the policy allows).
  bool client_to_client = false;
  bool pool_to_pool_partly = false;  // some, not all, pool -> pool flows: left to the host firewall
  std::vector<Client> clients;     // in host order
  // With clients: the dynamic ranges that avoid their fixed addresses.
  std::uint32_t dynamic_first = 0;  // IPv4, host order
  std::uint32_t dynamic_last = 0;
  std::optional<Cidr> dynamic6_base;  // ifconfig-ipv6-pool base (/128), when the pool has IPv6
};

// One Server per VPN without errors; diagnostics (E730-E737) for the others.
std::vector<Server> plan_servers(const ir::Policy& policy, Diagnostics& diags);

// Helpers shared with the renderer and the tests.
std::uint32_t v4_value(const Cidr& c);           // the address as a host-order number
Cidr v4_address(std::uint32_t value);            // a /32
std::string v4_text(std::uint32_t value);        // dotted quad
std::string v4_netmask(int prefix);              // 24 -> "255.255.255.0"
Cidr offset_address(const Cidr& network, std::uint32_t offset);  // network + offset, as a host address
// Merges a set of networks into the fewest exact networks (drops contained ones, joins
// sibling halves). Sorted; both families allowed.
std::vector<Cidr> aggregate(std::vector<Cidr> list);

}  // namespace netpol::openvpn
