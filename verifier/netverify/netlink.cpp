// LibnlNetlink: links, addresses and routes through libnl-route. Every operation opens its
// NETLINK_ROUTE socket inside the target namespace (on a short-lived thread joined to it), and a
// netlink socket keeps talking to the namespace it was opened in, so the caller's thread never moves.
#include "netlink.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <linux/if.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <functional>

#include "netns.h"

namespace netpol::live {
namespace {

template <auto Free>
struct FreeWith {
  template <typename T>
  void operator()(T* object) const { Free(object); }
};
using Socket = std::unique_ptr<nl_sock, FreeWith<&nl_socket_free>>;
using Cache = std::unique_ptr<nl_cache, FreeWith<&nl_cache_free>>;
using Link = std::unique_ptr<rtnl_link, FreeWith<&rtnl_link_put>>;
using Veth = std::unique_ptr<rtnl_link, FreeWith<&rtnl_link_veth_release>>;  // frees both ends
using Address = std::unique_ptr<nl_addr, FreeWith<&nl_addr_put>>;
using InterfaceAddress = std::unique_ptr<rtnl_addr, FreeWith<&rtnl_addr_put>>;
using Route = std::unique_ptr<rtnl_route, FreeWith<&rtnl_route_put>>;

std::string in(const std::string& ns) { return ns.empty() ? " (initial netns)" : " (netns " + ns + ")"; }

void check(int result, const std::string& what) {
  if (result < 0) throw ToolError(what + ": " + nl_geterror(result));
}

// [a-zA-Z0-9_.-]{1,15} (IFNAMSIZ less the NUL), and not a path component of its own.
void check_link_name(const std::string& name) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  };
  const bool valid = !name.empty() && name.size() <= 15 && std::all_of(name.begin(), name.end(), allowed) &&
                     name != "." && name != "..";
  if (!valid) throw ToolError("invalid interface name '" + name + "'");
}

Socket open_socket(const std::string& ns) {
  Socket socket(nl_socket_alloc());
  if (!socket) throw ToolError("nl_socket_alloc failed");
  int result = 0;
  run_in_netns(ns, [&] { result = nl_connect(socket.get(), NETLINK_ROUTE); });
  check(result, "netlink connect" + in(ns));
  return socket;
}

Cache link_cache(nl_sock* socket, const std::string& ns) {
  nl_cache* cache = nullptr;
  check(rtnl_link_alloc_cache(socket, AF_UNSPEC, &cache), "list links" + in(ns));
  return Cache(cache);
}

Link find_link(nl_cache* cache, const std::string& ns, const std::string& name) {
  Link link(rtnl_link_get_by_name(cache, name.c_str()));
  if (!link) throw ToolError("no link " + name + in(ns));
  return link;
}

// A namespace file descriptor, for moving a veth end there (opened on a thread joined to it).
int open_netns_fd(const std::string& ns) {
  int fd = -1;
  int error = 0;
  run_in_netns(ns, [&] {
    fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    error = errno;
  });
  if (fd < 0) throw ToolError("open netns" + in(ns) + ": " + std::strerror(error));
  return fd;
}

// "198.18.1.250/24", "2001:db8::1/64", or a bare address (full length) when prefix is optional.
Address parse_address(const std::string& text, bool prefix_required) {
  const auto slash = text.find('/');
  const std::string host = text.substr(0, slash);
  std::array<unsigned char, 16> bytes{};
  const int family = inet_pton(AF_INET, host.c_str(), bytes.data()) == 1    ? AF_INET
                     : inet_pton(AF_INET6, host.c_str(), bytes.data()) == 1 ? AF_INET6
                                                                            : AF_UNSPEC;
  const int max_prefix = family == AF_INET ? 32 : 128;
  bool valid = family != AF_UNSPEC && (slash != std::string::npos || !prefix_required);
  if (valid && slash != std::string::npos) {
    const std::string prefix = text.substr(slash + 1);
    valid = !prefix.empty() && prefix.size() <= 3 &&
            std::all_of(prefix.begin(), prefix.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
            std::stoi(prefix) <= max_prefix;
  }
  if (!valid) throw ToolError("invalid address '" + text + "'" + (prefix_required ? " (want a CIDR)" : ""));
  nl_addr* parsed = nullptr;
  check(nl_addr_parse(text.c_str(), family, &parsed), "parse address " + text);
  return Address(parsed);
}

std::string to_cidr(nl_addr* dst, int route_family) {
  std::array<unsigned char, 16> bytes{};
  unsigned int prefix = 0;
  int family = route_family;
  if (dst != nullptr && nl_addr_get_len(dst) > 0) {
    std::memcpy(bytes.data(), nl_addr_get_binary_addr(dst), std::min<size_t>(nl_addr_get_len(dst), bytes.size()));
    prefix = nl_addr_get_prefixlen(dst);
    family = nl_addr_get_family(dst);
  }
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (inet_ntop(family, bytes.data(), text.data(), text.size()) == nullptr) return "?";
  return std::string(text.data()) + "/" + std::to_string(prefix);
}

void change_link(const std::string& ns, const std::string& name, const std::string& what,
                 const std::function<void(rtnl_link*, nl_cache*)>& edit) {
  check_link_name(name);
  Socket socket = open_socket(ns);
  Cache cache = link_cache(socket.get(), ns);
  Link link = find_link(cache.get(), ns, name);
  Link change(rtnl_link_alloc());
  edit(change.get(), cache.get());
  check(rtnl_link_change(socket.get(), link.get(), change.get(), 0), what + in(ns));
}

class LibnlNetlink final : public Netlink {
 public:
  void add_bridge(const std::string& ns, const std::string& name) override {
    check_link_name(name);
    Socket socket = open_socket(ns);
    Link bridge(rtnl_link_bridge_alloc());
    rtnl_link_set_name(bridge.get(), name.c_str());
    check(rtnl_link_add(socket.get(), bridge.get(), NLM_F_CREATE | NLM_F_EXCL), "add bridge " + name + in(ns));
  }

  void add_veth(const std::string& ns, const std::string& name, const std::string& peer_ns,
                const std::string& peer) override {
    check_link_name(name);
    check_link_name(peer);
    const std::string what = "add veth " + name + in(ns) + " peer " + peer + in(peer_ns);
    Socket socket = open_socket(ns);
    Veth veth(rtnl_link_veth_alloc());
    if (!veth) throw ToolError(what + ": out of memory");
    rtnl_link_set_name(veth.get(), name.c_str());
    rtnl_link* peer_link = rtnl_link_veth_get_peer(veth.get());
    rtnl_link_set_name(peer_link, peer.c_str());
    int peer_fd = -1;
    if (peer_ns != ns) {
      peer_fd = open_netns_fd(peer_ns);
      rtnl_link_set_ns_fd(peer_link, peer_fd);
    }
    rtnl_link_put(peer_link);  // get_peer took a reference
    const int result = rtnl_link_add(socket.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (peer_fd >= 0) ::close(peer_fd);
    check(result, what);
  }

  void set_master(const std::string& ns, const std::string& link, const std::string& bridge) override {
    check_link_name(bridge);
    change_link(ns, link, "set " + link + " master " + bridge, [&](rtnl_link* change, nl_cache* cache) {
      const int index = rtnl_link_name2i(cache, bridge.c_str());
      if (index == 0) throw ToolError("no bridge " + bridge + in(ns));
      rtnl_link_set_master(change, index);
    });
  }

  void set_up(const std::string& ns, const std::string& link) override {
    change_link(ns, link, "set " + link + " up", [](rtnl_link* change, nl_cache*) { rtnl_link_set_flags(change, IFF_UP); });
  }

  void add_address(const std::string& ns, const std::string& link, const std::string& cidr) override {
    check_link_name(link);
    Address local = parse_address(cidr, true);
    const std::string what = "add address " + cidr + " to " + link + in(ns);
    Socket socket = open_socket(ns);
    Cache cache = link_cache(socket.get(), ns);
    const int index = rtnl_link_name2i(cache.get(), link.c_str());
    if (index == 0) throw ToolError(what + ": no such link");
    InterfaceAddress address(rtnl_addr_alloc());
    rtnl_addr_set_ifindex(address.get(), index);
    rtnl_addr_set_family(address.get(), nl_addr_get_family(local.get()));
    check(rtnl_addr_set_local(address.get(), local.get()), what);
    rtnl_addr_set_prefixlen(address.get(), static_cast<int>(nl_addr_get_prefixlen(local.get())));
    // No duplicate address detection: a probe address must work at once, not seconds later.
    if (nl_addr_get_family(local.get()) == AF_INET6) rtnl_addr_set_flags(address.get(), IFA_F_NODAD);
    check(rtnl_addr_add(socket.get(), address.get(), NLM_F_EXCL), what);
  }

  void add_route(const std::string& ns, const std::string& destination, const std::string& via,
                 const std::string& link) override {
    const std::string what = "add route " + destination + (via.empty() ? "" : " via " + via) +
                             (link.empty() ? "" : " dev " + link) + in(ns);
    if (via.empty() && link.empty()) throw ToolError(what + ": needs a gateway or a link");
    if (!link.empty()) check_link_name(link);
    Address gateway = via.empty() ? nullptr : parse_address(via, false);
    const int via_family = gateway ? nl_addr_get_family(gateway.get()) : AF_UNSPEC;
    // "default" takes the gateway's family; an on-link default route is IPv4.
    Address dst = destination == "default" ? parse_address(via_family == AF_INET6 ? "::/0" : "0.0.0.0/0", true)
                                           : parse_address(destination, true);
    const int family = nl_addr_get_family(dst.get());
    if (gateway && via_family != family) throw ToolError(what + ": gateway and destination families differ");

    Socket socket = open_socket(ns);
    int index = 0;
    if (!link.empty()) {
      Cache cache = link_cache(socket.get(), ns);
      index = rtnl_link_name2i(cache.get(), link.c_str());
      if (index == 0) throw ToolError(what + ": no such link");
    }
    Route route(rtnl_route_alloc());
    rtnl_route_set_family(route.get(), static_cast<uint8_t>(family));
    rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
    rtnl_route_set_protocol(route.get(), RTPROT_BOOT);  // what `ip route add` uses
    rtnl_route_set_type(route.get(), RTN_UNICAST);
    rtnl_route_set_scope(route.get(), gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
    check(rtnl_route_set_dst(route.get(), dst.get()), what);
    rtnl_nexthop* hop = rtnl_route_nh_alloc();
    if (index != 0) rtnl_route_nh_set_ifindex(hop, index);
    if (gateway) rtnl_route_nh_set_gateway(hop, gateway.get());
    rtnl_route_add_nexthop(route.get(), hop);  // the route owns it now
    check(rtnl_route_add(socket.get(), route.get(), NLM_F_EXCL), what);
  }

  void delete_link(const std::string& ns, const std::string& name) override {
    check_link_name(name);
    Socket socket = open_socket(ns);
    Link link(rtnl_link_alloc());
    rtnl_link_set_name(link.get(), name.c_str());
    const int result = rtnl_link_delete(socket.get(), link.get());
    if (result == -NLE_NODEV || result == -NLE_OBJ_NOTFOUND) return;
    check(result, "delete link " + name + in(ns));
  }

  bool link_exists(const std::string& ns, const std::string& name) override {
    check_link_name(name);
    Socket socket = open_socket(ns);
    return rtnl_link_name2i(link_cache(socket.get(), ns).get(), name.c_str()) != 0;
  }

  bool link_is_up(const std::string& ns, const std::string& name) override {
    check_link_name(name);
    Socket socket = open_socket(ns);
    Cache cache = link_cache(socket.get(), ns);
    Link link(rtnl_link_get_by_name(cache.get(), name.c_str()));
    if (!link) return false;
    const unsigned int flags = rtnl_link_get_flags(link.get());
    return (flags & IFF_UP) != 0 && (flags & IFF_LOWER_UP) != 0;
  }

  std::vector<std::string> link_names(const std::string& ns) override {
    Socket socket = open_socket(ns);
    Cache cache = link_cache(socket.get(), ns);
    std::vector<std::string> names;
    for (nl_object* it = nl_cache_get_first(cache.get()); it != nullptr; it = nl_cache_get_next(it))
      names.emplace_back(rtnl_link_get_name(reinterpret_cast<rtnl_link*>(it)));
    std::sort(names.begin(), names.end());
    return names;
  }

  // Main-table unicast routes with a next hop out of `link`; empty when the link does not exist.
  std::vector<std::string> routes_via(const std::string& ns, const std::string& link) override {
    check_link_name(link);
    Socket socket = open_socket(ns);
    const int index = rtnl_link_name2i(link_cache(socket.get(), ns).get(), link.c_str());
    std::vector<std::string> routes;
    if (index == 0) return routes;
    nl_cache* raw = nullptr;
    check(rtnl_route_alloc_cache(socket.get(), AF_UNSPEC, 0, &raw), "list routes" + in(ns));
    Cache cache(raw);
    for (nl_object* it = nl_cache_get_first(cache.get()); it != nullptr; it = nl_cache_get_next(it)) {
      auto* route = reinterpret_cast<rtnl_route*>(it);
      if (rtnl_route_get_table(route) != RT_TABLE_MAIN || rtnl_route_get_type(route) != RTN_UNICAST) continue;
      for (int n = 0; n < rtnl_route_get_nnexthops(route); ++n) {
        if (rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, n)) != index) continue;
        routes.push_back(to_cidr(rtnl_route_get_dst(route), rtnl_route_get_family(route)));
        break;
      }
    }
    std::sort(routes.begin(), routes.end());
    routes.erase(std::unique(routes.begin(), routes.end()), routes.end());
    return routes;
  }
};

}  // namespace

std::unique_ptr<Netlink> make_libnl_netlink() { return std::make_unique<LibnlNetlink>(); }

}  // namespace netpol::live
