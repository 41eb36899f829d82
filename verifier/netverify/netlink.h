#pragma once
// The links, addresses and routes netverify makes, behind a small interface: LibnlNetlink does it
// with libnl in the named namespaces, FakeNetlink records it for tests. `ns` is a namespace name
// from netns.h; empty means the namespace the process started in (on a node: the node itself).
#include <memory>
#include <string>
#include <vector>

namespace netpol::live {

class Netlink {
 public:
  virtual ~Netlink() = default;
  virtual void add_bridge(const std::string& ns, const std::string& name) = 0;
  // A veth pair: `name` in `ns`, `peer` in `peer_ns`. Both stay down until set_up.
  virtual void add_veth(const std::string& ns, const std::string& name, const std::string& peer_ns,
                        const std::string& peer) = 0;
  virtual void set_master(const std::string& ns, const std::string& link, const std::string& bridge) = 0;
  virtual void set_up(const std::string& ns, const std::string& link) = 0;  // also "lo"
  virtual void add_address(const std::string& ns, const std::string& link, const std::string& cidr) = 0;  // "198.18.1.250/24"
  // `destination` "default" or a CIDR; `via` a gateway address (empty: on-link through `link`).
  virtual void add_route(const std::string& ns, const std::string& destination, const std::string& via,
                         const std::string& link) = 0;
  virtual void delete_link(const std::string& ns, const std::string& name) = 0;  // no error when absent
  virtual bool link_exists(const std::string& ns, const std::string& name) = 0;
  virtual bool link_is_up(const std::string& ns, const std::string& name) = 0;  // IFF_UP and carrier
  virtual std::vector<std::string> link_names(const std::string& ns) = 0;
  // Routes through `link` in `ns`, as CIDR strings (the VPN client's pushed routes).
  virtual std::vector<std::string> routes_via(const std::string& ns, const std::string& link) = 0;
};

std::unique_ptr<Netlink> make_libnl_netlink();

}  // namespace netpol::live
