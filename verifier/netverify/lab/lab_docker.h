#pragma once
// The lab's Docker hosts: for each host the policy says runs Docker, one container namespace
// behind a docker0 bridge inside the VM's namespace, holding every port its compose files publish
// on all addresses, reached through Docker's own NAT and FORWARD layout (docker_layout.h). Ports
// bound to 127.0.0.1 are not reachable from outside, as with Docker.
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "docker_layout.h"
#include "ir.h"
#include "lab_topology.h"

namespace netpol::live::lab {

struct LabDockerHost {
  std::string host;          // the policy's host name
  std::string vm_ns;         // its namespace
  std::string container_ns;  // nv-lab-<host>-ct
  std::string gateway_cidr;  // docker0's address
  Container container;       // every published port (host port = the port probes use)
};

// Reads the compose files (paths relative to `policy_dir`). Ports the lab serves with a real tool
// on the VM itself (the proxy's nginx, the VPN's openvpn: `on_vm`, "tcp/443") stay on the VM.
// Throws ToolError naming the file when one cannot be read.
std::vector<LabDockerHost> lay_out_docker(const ir::Policy& policy, const std::filesystem::path& policy_dir,
                                          const LabTopology& topology,
                                          const std::set<std::pair<std::string, std::string>>& on_vm);

}  // namespace netpol::live::lab
