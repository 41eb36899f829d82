#include "lab_docker.h"

#include <set>

#include "compose_reader.h"
#include "diagnostics.h"
#include "lab.h"
#include "netns.h"
#include "service_files.h"
#include "source.h"

namespace netpol::live::lab {

namespace {

std::string read_text_file(const std::filesystem::path& p) {
  if (!std::filesystem::is_regular_file(p)) throw ToolError("cannot read the compose file " + p.string());
  return read_text(p.string());
}

// A /24 of 198.19.0.0/16 above the internet's, that no zone of the policy claims.
std::string free_block(const ir::Policy& policy, int index) {
  int found = 0;
  for (int block = 200; block < 256; ++block) {
    const auto net = parse_cidr("198.19." + std::to_string(block) + ".0/24").cidr;
    bool used = false;
    for (const auto& z : policy.zones)
      if (!z.catch_all)
        for (const auto& n : z.networks) used = used || n.overlaps(*net);
    if (!used && found++ == index) return "198.19." + std::to_string(block) + ".";
  }
  throw ToolError("no free /24 left in 198.19.200.0-198.19.255.255 for the lab's Docker bridges");
}

}  // namespace

std::vector<LabDockerHost> lay_out_docker(const ir::Policy& policy, const std::filesystem::path& policy_dir,
                                          const LabTopology& topology,
                                          const std::set<std::pair<std::string, std::string>>& on_vm) {
  std::vector<LabDockerHost> out;
  for (const auto& h : policy.hosts) {
    if (!h.docker || !topology.ns_of.count(h.name)) continue;
    LabDockerHost d;
    d.host = h.name;
    d.vm_ns = topology.ns_of.at(h.name);
    d.container_ns = std::string(kLabPrefix) + h.name + "-ct";
    const std::string base = free_block(policy, static_cast<int>(out.size()));
    d.gateway_cidr = base + "1/24";
    d.container.address = base + "2";
    std::set<std::pair<std::string, std::uint16_t>> seen;
    for (const auto& f : h.compose_files) {
      SourceSet sources;
      const int id = sources.add(f.path, f.path, read_text_file(policy_dir / f.path));
      Diagnostics diags;
      const auto compose = compose::read_compose(sources, id, diags);
      if (!compose.readable) throw ToolError("the compose file " + f.path + " of host " + h.name + " cannot be read");
      for (const auto& p : compose.published) {
        if (p.binding != compose::Binding::all || !p.host) continue;  // local only, or a random port
        const std::string proto = p.proto == ir::Proto::udp ? "udp" : "tcp";
        for (int i = 0; i <= p.host->last - p.host->first; ++i) {
          const auto host_port = static_cast<std::uint16_t>(p.host->first + i);
          const auto container_port = static_cast<std::uint16_t>(p.container.first + (p.container.last > p.container.first ? i : 0));
          if (on_vm.count({h.name, proto + "/" + std::to_string(host_port)})) continue;
          if (seen.insert({proto, host_port}).second) d.container.ports.push_back({proto, host_port, container_port});
        }
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace netpol::live::lab
