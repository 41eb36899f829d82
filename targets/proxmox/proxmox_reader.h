#pragma once
// A strict reader of Proxmox VE firewall files (shared/formats.md 1.2-1.7). pve-firewall
// (Perl) warns and drops a bad line, proxmox-firewall (Rust) refuses the whole file; this
// reader reports, as "file:line: message", anything either would refuse or warn about,
// and a few things that are valid but not canonical (sections and rule options out of
// the writer's order, upper-case object names) because the two parsers treat them
// differently or netpolc's own output never has them. Not read: macros, /etc/services
// port names, and protocol numbers other than those of tcp, udp, icmp, icmpv6, dccp,
// sctp and udplite (they are refused with a message saying so).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ip.h"
#include "ir.h"

namespace netpol::proxmox {

enum class FwKind { cluster, host, guest };

// A -source or -dest value.
struct FwAddress {
  enum class Kind { none, ipset, alias, list };
  Kind kind = Kind::none;
  std::string scope;            // "dc" or "guest" (ipset and alias)
  std::string name;             // lower-case (ipset and alias)
  std::vector<Cidr> networks;   // list: its networks (a range as networks); alias: its address
  std::optional<Family> family; // pinned by an alias or a list
};

struct FwRule {
  int line = 0;
  bool enabled = true;
  std::string type;     // "in", "out", "forward", "group"
  std::string action;   // "ACCEPT", "DROP", "REJECT", or the group name
  std::string iface, proto, log, icmp_type, comment;
  FwAddress source, dest;
  std::vector<ir::PortRange> dports, sports;  // empty: no -dport / -sport
};

struct FwIpsetEntry {
  int line = 0;
  bool nomatch = false;
  Cidr cidr;             // an alias entry is resolved to its address
};

struct FwFile {
  std::string path;      // as given, for messages
  FwKind kind = FwKind::cluster;
  bool has_options = false;
  std::map<std::string, std::string> options;
  std::map<std::string, Cidr> aliases;                          // lower-case name -> address
  std::map<std::string, std::vector<FwIpsetEntry>> ipsets;
  std::vector<FwRule> rules;                                    // [RULES]
  std::map<std::string, std::vector<FwRule>> groups;            // [group name], cluster.fw only
};

struct FwRead {
  FwFile file;
  std::vector<std::string> errors;  // "path:line: message"
  bool ok() const { return errors.empty(); }
};

// Reads one file. Host and guest files resolve `dc/` references in `cluster`
// (cluster.fw, read first: objects must be defined before they are used).
FwRead read_fw(std::string_view text, FwKind kind, const std::string& path, const FwFile* cluster = nullptr);

// The ipset a rule names, or nullptr.
const std::vector<FwIpsetEntry>* find_ipset(const FwAddress& ref, const FwFile& file, const FwFile* cluster);

}  // namespace netpol::proxmox
