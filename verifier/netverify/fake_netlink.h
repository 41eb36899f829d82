#pragma once
// FakeNetlink: the Netlink interface in memory, for unit tests of code that builds topologies.
// It records every operation as a line ("veth ns:a/x ns:b/y") and keeps enough state (links per
// namespace, up flags, masters, addresses, routes) to answer the queries the way the kernel would:
// a veth has carrier when both ends are up, a bridge when one of its ports has, an address gives
// its subnet as a route once the link is up, a gateway must sit in such a subnet. Errors that the
// kernel would report (a link that exists, or is missing) throw ToolError. Namespaces are not
// checked: any name is a namespace here. The empty namespace prints as "ns:".
#include <map>
#include <string>
#include <vector>

#include "netlink.h"

namespace netpol::live {

class FakeNetlink final : public Netlink {
 public:
  void add_bridge(const std::string& ns, const std::string& name) override;
  void add_veth(const std::string& ns, const std::string& name, const std::string& peer_ns,
                const std::string& peer) override;
  void set_master(const std::string& ns, const std::string& link, const std::string& bridge) override;
  void set_up(const std::string& ns, const std::string& link) override;
  void add_address(const std::string& ns, const std::string& link, const std::string& cidr) override;
  void add_route(const std::string& ns, const std::string& destination, const std::string& via,
                 const std::string& link) override;
  void delete_link(const std::string& ns, const std::string& name) override;
  bool link_exists(const std::string& ns, const std::string& name) override;
  bool link_is_up(const std::string& ns, const std::string& name) override;
  std::vector<std::string> link_names(const std::string& ns) override;
  std::vector<std::string> routes_via(const std::string& ns, const std::string& link) override;

  // Every successful change, in order:
  //   "bridge ns:N/br"  "veth ns:A/x ns:B/y"  "master ns:N/x br"  "up ns:N/x"
  //   "addr ns:N/x 198.18.1.2/24"  "route ns:N default via 198.18.1.1 dev x"  "delete ns:N/x"
  // ("route" leaves out "via" or "dev" when not given). Queries are not recorded.
  const std::vector<std::string>& operations() const { return operations_; }
  // Addresses on a link, in the order added.
  std::vector<std::string> addresses(const std::string& ns, const std::string& link) const;
  // Namespaces a change has touched (each holds at least "lo"), sorted.
  std::vector<std::string> namespaces() const;

 private:
  struct Route {
    std::string destination;  // normalised CIDR: "0.0.0.0/0", "198.18.2.0/24"
    std::string via;
    std::string link;
  };
  struct LinkState {
    std::string kind;  // "lo", "bridge", "veth"
    bool up = false;
    std::string master;
    std::string peer_ns, peer;  // veth only
    std::vector<std::string> addresses;
  };
  using Namespace = std::map<std::string, LinkState>;

  Namespace& ns_state(const std::string& ns);  // made on first use, holding a down "lo"
  LinkState& existing(const std::string& ns, const std::string& name);
  void add_link(const std::string& ns, const std::string& name, LinkState state);
  bool has_carrier(const std::string& ns, const std::string& name, int depth) const;
  std::string link_for_gateway(const std::string& ns, const std::string& via) const;

  std::map<std::string, Namespace> namespaces_;
  std::map<std::string, std::vector<Route>> routes_;
  std::vector<std::string> operations_;
};

}  // namespace netpol::live
