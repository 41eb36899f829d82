#include "proxmox_target.h"

#include <algorithm>
#include <optional>

#include "comment.h"
#include "proxmox_codes.h"
#include "proxmox_layout.h"
#include "proxmox_names.h"
#include "proxmox_rules.h"
#include "proxmox_sets.h"

namespace netpol {

namespace {

using namespace proxmox;

// Every comment line passes the one guard, fixed text included.
std::vector<std::string> safe_lines(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(safe_comment(l));
  return out;
}

std::vector<std::string> lines_of(const std::vector<RuleLine>& rules) {
  std::vector<std::string> out;
  for (const auto& r : rules) out.push_back(r.str());
  return out;
}

std::string host_note(const ir::Host& h) {
  std::string what = h.is_node ? "node " : "host ";
  std::string vm = h.vmid ? " (vmid " + std::to_string(*h.vmid) + ")" : "";
  return safe_comment(h.location.where() + " " + what + h.name + vm);
}

// The one node the policy names; a second one has no host.fw in out/proxmox/.
std::optional<int> the_node(const ir::Policy& p, Diagnostics& diags) {
  std::optional<int> node;
  for (std::size_t h = 0; h < p.hosts.size(); ++h) {
    if (!p.hosts[h].is_node) continue;
    if (!node) {
      node = static_cast<int>(h);
      continue;
    }
    auto& d = diags.error(proxmox::code::kCannotExpress, p.hosts[h].location.span,
                          "the Proxmox target cannot express a second node '" + p.hosts[h].name +
                              "': it writes one proxmox/host.fw, for node '" + p.hosts[*node].name + "'");
    d.hints.push_back("keep one node per policy; each node's host.fw lives in /etc/pve/nodes/<node>/");
  }
  return node;
}

std::vector<int> vms_by_vmid(const ir::Policy& p) {
  std::vector<int> vms;
  for (std::size_t h = 0; h < p.hosts.size(); ++h)
    if (p.hosts[h].vmid) vms.push_back(static_cast<int>(h));
  std::sort(vms.begin(), vms.end(), [&](int a, int b) {
    return *p.hosts[static_cast<std::size_t>(a)].vmid < *p.hosts[static_cast<std::size_t>(b)].vmid;
  });
  return vms;
}

Section aliases_section(const ir::Policy& p, const ProxmoxNames& names) {
  std::vector<std::pair<std::string, std::string>> entries;  // name, line
  for (std::size_t h = 0; h < p.hosts.size(); ++h)
    for (const auto& a : names.aliases(static_cast<int>(h)))
      entries.emplace_back(a.name, a.name + " " + a.address.str(true) + " # " + host_note(p.hosts[h]));
  std::sort(entries.begin(), entries.end());
  Section s{"[ALIASES]", {}};
  for (auto& [name, line] : entries) s.lines.push_back(line);
  return s;
}

Section ipset_section(const std::string& name, const std::string& comment, const AddressSet& set) {
  // PVE's writer sorts entries by their address text, the '!' aside.
  std::vector<std::pair<std::string, bool>> entries;
  for (const auto& c : set.include) entries.emplace_back(c.str(true), false);
  for (const auto& c : set.exclude) entries.emplace_back(c.str(true), true);
  std::sort(entries.begin(), entries.end());
  Section s{header_with_comment("IPSET " + name, comment), {}};
  for (const auto& [text, nomatch] : entries) s.lines.push_back((nomatch ? "!" : "") + text);
  return s;
}

std::vector<Section> ipset_sections(const ir::Policy& p, const ProxmoxNames& names) {
  std::vector<std::pair<std::string, Section>> sets;
  for (std::size_t z = 0; z < p.zones.size(); ++z) {
    const auto& zone = p.zones[z];
    ir::FlowEnd whole{{ir::Endpoint::Kind::zone, static_cast<int>(z)}, {}};
    auto note = safe_comment(zone.location.where() + " zone " + zone.name);
    sets.emplace_back(names.zone_set(static_cast<int>(z)), ipset_section(names.zone_set(static_cast<int>(z)), note, ipset_entries(p, whole)));
  }
  for (const auto& [z, name] : names.rest_sets()) {
    const auto& zone = p.zones[static_cast<std::size_t>(z)];
    ir::FlowEnd rest{{ir::Endpoint::Kind::zone, z}, {}};
    for (std::size_t h = 0; h < p.hosts.size(); ++h)
      if (p.hosts[h].zone == z) rest.except_hosts.push_back(static_cast<int>(h));
    auto note = safe_comment(zone.location.where() + " zone " + zone.name + " other than its hosts");
    sets.emplace_back(name, ipset_section(name, note, ipset_entries(p, rest)));
  }
  std::sort(sets.begin(), sets.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Section> out;
  for (auto& [name, s] : sets) out.push_back(std::move(s));
  return out;
}

using NamedSection = std::pair<std::string, Section>;

std::string cluster_file(const ir::Policy& p, const ProxmoxNames& names, std::vector<NamedSection> groups) {
  std::vector<Section> sections{{"[OPTIONS]", {"enable: 1", "policy_in: DROP", "policy_out: ACCEPT"}}};
  auto aliases = aliases_section(p, names);
  if (!aliases.lines.empty()) sections.push_back(aliases);
  for (auto& s : ipset_sections(p, names)) sections.push_back(std::move(s));
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [name, g] : groups) sections.push_back(std::move(g));
  return render_fw(safe_lines({provenance(p),
                               "Proxmox VE datacenter firewall: zones as IP sets, hosts as aliases, one security group per VM.",
                               "No [RULES] here: they would apply to every node. The rules of the node are in host.fw."}),
                   sections);
}

std::string vm_file(const ir::Policy& p, const ir::Host& vm) {
  std::vector<Section> sections{
      {"[OPTIONS]", {"enable: 1", "policy_in: DROP", "policy_out: DROP"}},
      {"[RULES]", {RuleLine{"GROUP", vm.name, "", "", "", "", "", host_note(vm)}.str()}}};
  return render_fw(safe_lines({provenance(p), "VM " + vm.name + ": default deny both ways (policy_in and policy_out DROP);",
                               "the flows the policy allows are the rules of group " + vm.name + " in cluster.fw.",
                               "Enforced only when the NICs of the VM have firewall=1 in its Proxmox config."}),
                   sections);
}

std::string host_file(const ir::Policy& p, const ir::Host& node, const std::vector<RuleLine>& rules) {
  std::vector<Section> sections{{"[OPTIONS]", {"enable: 1"}}, {"[RULES]", lines_of(rules)}};
  return render_fw(safe_lines({provenance(p), "node " + node.name + ": the flows the policy allows to the node, then DROP",
                               "for the management ports Proxmox opens implicitly. Inbound policy: cluster.fw policy_in DROP.",
                               "Outbound from the node is not filtered (cluster.fw policy_out ACCEPT)."}),
                   sections);
}

}  // namespace

void emit_proxmox(const ir::Policy& policy, OutputSet& out, Diagnostics& diags) {
  int errors_before = diags.error_count();
  ProxmoxNames names(policy, diags);
  RuleContext ctx{policy, names, diags, {}};
  OutputSet files;
  std::vector<NamedSection> groups;
  for (int vm : vms_by_vmid(policy)) {
    const auto& host = policy.hosts[static_cast<std::size_t>(vm)];
    Section group{header_with_comment("group " + host.name, host_note(host)), lines_of(vm_group_rules(ctx, vm))};
    groups.emplace_back(host.name, std::move(group));
    files["proxmox/" + std::to_string(*host.vmid) + ".fw"] = vm_file(policy, host);
  }
  if (auto node = the_node(policy, diags))
    files["proxmox/host.fw"] = host_file(policy, policy.hosts[static_cast<std::size_t>(*node)], node_rules(ctx, *node));
  // Last: the rules decided which `<zone>-rest` sets exist.
  files["proxmox/cluster.fw"] = cluster_file(policy, names, std::move(groups));
  if (diags.error_count() > errors_before) return;  // nothing half-made
  out.insert(files.begin(), files.end());
}

}  // namespace netpol
