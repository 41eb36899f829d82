// Docker's iptables layout, as moby's libnetwork (bridge driver, Engine 20-27) writes it for the
// default bridge and a container with published ports.
#include "docker_layout.h"

#include <arpa/inet.h>

#include <chrono>

#include "service_files.h"

namespace netpol::live::lab {

namespace {

constexpr std::chrono::seconds kToolTimeout{20};

// "198.18.200.1/24" -> "198.18.200.0/24": Docker masquerades the bridge's network.
std::string network_of(const std::string& cidr) {
  auto slash = cidr.find('/');
  in_addr a{};
  if (slash == std::string::npos || inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &a) != 1)
    throw ToolError("not an IPv4 CIDR: " + cidr);
  int prefix = std::stoi(cidr.substr(slash + 1));
  if (prefix < 0 || prefix > 32) throw ToolError("bad prefix in " + cidr);
  std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  a.s_addr = htonl(ntohl(a.s_addr) & mask);
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, text, sizeof text);
  return std::string(text) + "/" + std::to_string(prefix);
}

std::string address_of(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }

}  // namespace

std::string docker_iptables(const std::string& bridge, const std::string& bridge_cidr,
                            const std::vector<Container>& containers) {
  const std::string& b = bridge;
  std::string nat = "*nat\n:DOCKER - [0:0]\n";
  nat += "-I PREROUTING 1 -m addrtype --dst-type LOCAL -j DOCKER\n";
  nat += "-I OUTPUT 1 ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER\n";
  nat += "-I POSTROUTING 1 -s " + network_of(bridge_cidr) + " ! -o " + b + " -j MASQUERADE\n";
  nat += "-A DOCKER -i " + b + " -j RETURN\n";
  std::string filter = "*filter\n:DOCKER - [0:0]\n:DOCKER-ISOLATION-STAGE-1 - [0:0]\n"
                       ":DOCKER-ISOLATION-STAGE-2 - [0:0]\n:DOCKER-USER - [0:0]\n";
  // The daemon puts these at the top of FORWARD, ahead of anything ufw appended.
  const char* forward[] = {"-j DOCKER-USER", "-j DOCKER-ISOLATION-STAGE-1",
                           "-o BR -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "-o BR -j DOCKER",
                           "-i BR ! -o BR -j ACCEPT", "-i BR -o BR -j ACCEPT"};
  int position = 1;
  for (std::string rule : forward) {
    for (auto at = rule.find("BR"); at != std::string::npos; at = rule.find("BR")) rule.replace(at, 2, b);
    filter += "-I FORWARD " + std::to_string(position++) + " " + rule + "\n";
  }
  for (const auto& c : containers) {
    for (const auto& p : c.ports) {
      std::string proto = " -p " + p.proto + " -m " + p.proto;
      nat += "-A DOCKER ! -i " + b + proto + " --dport " + std::to_string(p.host_port) + " -j DNAT --to-destination " +
             c.address + ":" + std::to_string(p.container_port) + "\n";
      filter += "-A DOCKER -d " + c.address + "/32 ! -i " + b + " -o " + b + proto + " --dport " +
                std::to_string(p.container_port) + " -j ACCEPT\n";
    }
  }
  filter += "-A DOCKER-ISOLATION-STAGE-1 -i " + b + " ! -o " + b + " -j DOCKER-ISOLATION-STAGE-2\n";
  filter += "-A DOCKER-ISOLATION-STAGE-1 -j RETURN\n";
  filter += "-A DOCKER-ISOLATION-STAGE-2 -o " + b + " -j DROP\n";
  filter += "-A DOCKER-ISOLATION-STAGE-2 -j RETURN\n";
  filter += "-A DOCKER-USER -j RETURN\n";  // Docker's default: replaced by ufw's after.rules block
  return nat + "COMMIT\n" + filter + "COMMIT\n";
}

void build_docker_host(Netlink& netlink, Processes& processes, const DockerHost& host, const std::string& scratch) {
  if (host.host_ns.empty()) throw ToolError("refusing to build a Docker host outside a lab namespace");
  if (host.container_ns.size() != host.containers.size()) throw ToolError("one namespace per container");
  make_dir(scratch, 0700);
  const std::string log = scratch + "/docker-layout.log";
  netlink.add_bridge(host.host_ns, host.bridge);
  netlink.add_address(host.host_ns, host.bridge, host.gateway_cidr);
  netlink.set_up(host.host_ns, host.bridge);
  const std::string prefix = host.gateway_cidr.substr(host.gateway_cidr.find('/'));
  for (std::size_t i = 0; i < host.containers.size(); ++i) {
    const std::string& ns = host.container_ns[i];
    const std::string veth = "vethc" + std::to_string(i);
    netlink.add_veth(host.host_ns, veth, ns, "eth0");
    netlink.set_master(host.host_ns, veth, host.bridge);
    netlink.set_up(host.host_ns, veth);
    netlink.set_up(ns, "lo");
    netlink.add_address(ns, "eth0", host.containers[i].address + prefix);
    netlink.set_up(ns, "eth0");
    netlink.add_route(ns, "default", address_of(host.gateway_cidr), "eth0");
  }
  if (processes.run(host.host_ns, {"sysctl", "-q", "-w", "net.ipv4.ip_forward=1"}, log, kToolTimeout) != 0)
    fail_with_log("ip_forward in " + host.host_ns, log);
  const std::string rules = scratch + "/docker.iptables";
  write_text(rules, docker_iptables(host.bridge, host.gateway_cidr, host.containers), 0600);
  if (processes.run(host.host_ns, {"iptables-restore", "-w", "--noflush", rules}, log, kToolTimeout) != 0)
    fail_with_log("iptables-restore of Docker's layout in " + host.host_ns, log);
}

}  // namespace netpol::live::lab
