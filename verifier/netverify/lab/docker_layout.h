#pragma once
// Docker's own iptables layout on a Docker host (Docker Engine 20-27, the classic chains), for
// the lab, where no Docker engine runs: the nat DOCKER chain with one DNAT per published port
// (reached from PREROUTING and OUTPUT for local destinations), MASQUERADE for the bridge's
// network, and the filter chains FORWARD -> DOCKER-USER -> DOCKER-ISOLATION-STAGE-1/2 -> DOCKER.
// The daemon inserts its FORWARD rules at the top when it starts, so they run before ufw's.
#include <cstdint>
#include <string>
#include <vector>

#include "netlink.h"
#include "netns.h"  // ToolError
#include "processes.h"

namespace netpol::live::lab {

struct PublishedPort {
  std::string proto = "tcp";   // tcp or udp
  std::uint16_t host_port = 0;       // on the host's addresses (`ports: "8096:8096"`, left side)
  std::uint16_t container_port = 0;  // inside the container (right side)
};

struct Container {
  std::string address;  // on the bridge's network, e.g. "198.18.200.2"
  std::vector<PublishedPort> ports;
};

// The layout as `iptables-restore --noflush` input: *nat and *filter sections, FORWARD rules
// inserted at the top (-I, in Docker's order), DOCKER-USER holding Docker's default `-j RETURN`.
std::string docker_iptables(const std::string& bridge, const std::string& bridge_cidr,
                            const std::vector<Container>& containers);

// A Docker host in the lab: in `host_ns`, a bridge `bridge` with the gateway address
// `gateway_cidr` ("198.18.200.1/24"); for each container a namespace (`container_ns`, one per
// container, already created) behind a veth on the bridge, with its address and a default route
// via the gateway; net.ipv4.ip_forward=1 in host_ns; then docker_iptables loaded there with
// iptables-restore --noflush. `scratch` (created) holds the rules file and logs.
struct DockerHost {
  std::string host_ns;
  std::string bridge = "docker0";
  std::string gateway_cidr;                // the bridge's address, e.g. "198.18.200.1/24"
  std::vector<std::string> container_ns;   // parallel to containers
  std::vector<Container> containers;
};
void build_docker_host(Netlink& netlink, Processes& processes, const DockerHost& host, const std::string& scratch);

}  // namespace netpol::live::lab
