#include "proxmox_names.h"

#include "proxmox_codes.h"
#include "proxmox_facts.h"

namespace netpol::proxmox {

namespace {

// Names with a meaning of their own in cluster.fw (formats.md 1.4, 1.5): an ipset
// called `management` would open the node's management ports to it, `blacklist`
// would drop it, and the alias `local_network` redefines the node's own network.
bool reserved(const std::string& name, const std::string& what) {
  if (what.rfind("alias", 0) == 0) return name == "local_network";
  return name == "management" || name == "blacklist";
}

std::string family_suffix(Family f) { return f == Family::v4 ? "v4" : "v6"; }

std::vector<HostAlias> alias_names(const ir::Host& host) {
  std::vector<HostAlias> out;
  if (host.addresses.size() == 1) return {{host.addresses[0], host.name}};
  for (Family f : {Family::v4, Family::v6}) {
    std::vector<Cidr> of_family;
    for (const auto& a : host.addresses)
      if (a.family == f) of_family.push_back(a);
    for (std::size_t i = 0; i < of_family.size(); ++i) {
      std::string name = host.name + "-" + family_suffix(f);
      if (of_family.size() > 1) name += "-" + std::to_string(i + 1);
      out.push_back({of_family[i], name});
    }
  }
  return out;
}

}  // namespace

ProxmoxNames::ProxmoxNames(const ir::Policy& policy, Diagnostics& diags)
    : policy_(policy), diags_(diags), aliases_(policy.hosts.size()) {
  for (const auto& zone : policy.zones) {
    zone_sets_.push_back(zone.name);
    check(zone.name, "ipset of zone '" + zone.name + "'", zone.location, ipset_names_);
  }
  for (std::size_t h = 0; h < policy.hosts.size(); ++h) {
    const auto& host = policy.hosts[h];
    aliases_[h] = alias_names(host);
    for (const auto& a : aliases_[h]) check(a.name, "alias of host '" + host.name + "'", host.location, alias_names_);
  }
}

const std::string& ProxmoxNames::rest_set(int zone) {
  auto it = rest_sets_.find(zone);
  if (it != rest_sets_.end()) return it->second;
  const auto& z = policy_.zones[static_cast<std::size_t>(zone)];
  std::string name = z.name + "-rest";
  check(name, "ipset of zone '" + z.name + "' other than its hosts", z.location, ipset_names_);
  return rest_sets_.emplace(zone, name).first->second;
}

void ProxmoxNames::check(const std::string& name, const std::string& what, const ir::Location& where,
                         std::set<std::string>& taken) {
  if (!fits_name_rule(name)) {
    auto& d = diags_.error(code::kNameTooLong, where.span,
                           "the Proxmox target cannot name the " + what + ": '" + name + "' is " +
                               std::to_string(name.size()) + " characters, and names are 2 to 18");
    d.hints.push_back("shorten the name so that '" + name + "' fits ^[a-z][a-z0-9_-]{1,17}$; netpolc never truncates");
  } else if (reserved(name, what)) {
    auto& d = diags_.error(code::kReservedName, where.span,
                           "the Proxmox target cannot use '" + name + "' as the " + what +
                               ": Proxmox gives that name a meaning of its own");
    d.hints.push_back("rename it: 'management', 'blacklist' (ipsets) and 'local_network' (alias) are reserved in cluster.fw");
  } else if (!taken.insert(name).second) {
    auto& d = diags_.error(code::kNameClash, where.span,
                           "the Proxmox target names the " + what + " '" + name + "', a name another object already has");
    d.hints.push_back("rename one of them: derived names add '-rest', '-v4', '-v6' to zone and host names");
  }
}

}  // namespace netpol::proxmox
