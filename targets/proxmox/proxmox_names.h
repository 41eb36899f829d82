#pragma once
// The names of the Proxmox objects netpolc writes, each checked as a final string
// against formats.md 6.1 and Proxmox's reserved names. A name that does not fit is
// an error at the zone's or host's location: never truncated, never renamed.
//   [IPSET <zone>]        every zone
//   [IPSET <zone>-rest]   a zone other than its hosts, when a rule uses it
//   <host>                alias of a host's only address
//   <host>-v4, <host>-v6  aliases of a host with one address per family
//   <host>-v4-<n>         the n-th address of a family holding several
//   [group <host>]        every VM (the host name, already within the rule)
#include <map>
#include <set>
#include <string>
#include <vector>

#include "diagnostics.h"
#include "ip.h"
#include "ir.h"

namespace netpol::proxmox {

struct HostAlias {
  Cidr address;
  std::string name;
};

class ProxmoxNames {
 public:
  // Names every zone's ipset and every host's aliases, reporting E700/E702/E703.
  ProxmoxNames(const ir::Policy& policy, Diagnostics& diags);

  const std::string& zone_set(int zone) const { return zone_sets_[static_cast<std::size_t>(zone)]; }
  // The set of a zone other than its hosts; named and checked the first time it is asked for.
  const std::string& rest_set(int zone);
  const std::vector<HostAlias>& aliases(int host) const { return aliases_[static_cast<std::size_t>(host)]; }
  // Zones whose rest set some rule uses, in zone order.
  const std::map<int, std::string>& rest_sets() const { return rest_sets_; }

 private:
  // Checks one final name; records it in `taken` (one namespace per object kind).
  void check(const std::string& name, const std::string& what, const ir::Location& where,
             std::set<std::string>& taken);

  const ir::Policy& policy_;
  Diagnostics& diags_;
  std::vector<std::string> zone_sets_;
  std::vector<std::vector<HostAlias>> aliases_;
  std::map<int, std::string> rest_sets_;
  std::set<std::string> ipset_names_, alias_names_;
};

}  // namespace netpol::proxmox
