// FakeNetlink: what the kernel would do with these calls, kept in maps (see fake_netlink.h).
#include "fake_netlink.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "netns.h"

namespace netpol::live {
namespace {

constexpr int kMaxNesting = 8;  // bridges in bridges: far more than any topology here

struct Prefix {
  int family = AF_UNSPEC;
  std::array<std::uint8_t, 16> bytes{};
  int length = 0;

  int bits() const { return family == AF_INET ? 32 : 128; }

  Prefix network() const {
    Prefix masked = *this;
    for (int bit = length; bit < bits(); ++bit)
      masked.bytes[static_cast<size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    return masked;
  }

  bool contains(const Prefix& address) const {
    return family == address.family && Prefix{address.family, address.bytes, length}.network().bytes == network().bytes;
  }

  std::string text() const {
    std::array<char, INET6_ADDRSTRLEN> buffer{};
    inet_ntop(family, bytes.data(), buffer.data(), buffer.size());
    return std::string(buffer.data()) + "/" + std::to_string(length);
  }
};

// "198.18.1.2/24" or, when the prefix is optional, a bare address (full length).
Prefix parse(const std::string& text, bool prefix_required) {
  Prefix parsed;
  const auto slash = text.find('/');
  const std::string host = text.substr(0, slash);
  if (inet_pton(AF_INET, host.c_str(), parsed.bytes.data()) == 1) parsed.family = AF_INET;
  else if (inet_pton(AF_INET6, host.c_str(), parsed.bytes.data()) == 1) parsed.family = AF_INET6;
  bool valid = parsed.family != AF_UNSPEC && (slash != std::string::npos || !prefix_required);
  parsed.length = parsed.bits();
  if (valid && slash != std::string::npos) {
    const std::string digits = text.substr(slash + 1);
    valid = !digits.empty() && digits.size() <= 3 &&
            std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (valid) parsed.length = std::stoi(digits);
    valid = valid && parsed.length <= parsed.bits();
  }
  if (!valid) throw ToolError("invalid address '" + text + "'");
  return parsed;
}

std::string at(const std::string& ns, const std::string& name) { return "ns:" + ns + "/" + name; }

}  // namespace

FakeNetlink::Namespace& FakeNetlink::ns_state(const std::string& ns) {
  auto [it, made] = namespaces_.try_emplace(ns);
  if (made) it->second["lo"].kind = "lo";
  return it->second;
}

FakeNetlink::LinkState& FakeNetlink::existing(const std::string& ns, const std::string& name) {
  Namespace& links = ns_state(ns);
  auto it = links.find(name);
  if (it == links.end()) throw ToolError("no link " + name + " in " + at(ns, ""));
  return it->second;
}

void FakeNetlink::add_link(const std::string& ns, const std::string& name, LinkState state) {
  if (!ns_state(ns).emplace(name, std::move(state)).second) throw ToolError("link exists: " + at(ns, name));
}

void FakeNetlink::add_bridge(const std::string& ns, const std::string& name) {
  add_link(ns, name, LinkState{"bridge", false, "", "", "", {}});
  operations_.push_back("bridge " + at(ns, name));
}

void FakeNetlink::add_veth(const std::string& ns, const std::string& name, const std::string& peer_ns,
                           const std::string& peer) {
  if (ns_state(peer_ns).count(peer) != 0 || (ns == peer_ns && name == peer))
    throw ToolError("link exists: " + at(peer_ns, peer));
  add_link(ns, name, LinkState{"veth", false, "", peer_ns, peer, {}});
  add_link(peer_ns, peer, LinkState{"veth", false, "", ns, name, {}});
  operations_.push_back("veth " + at(ns, name) + " " + at(peer_ns, peer));
}

void FakeNetlink::set_master(const std::string& ns, const std::string& link, const std::string& bridge) {
  LinkState& port = existing(ns, link);
  if (existing(ns, bridge).kind != "bridge" || link == bridge) throw ToolError(at(ns, bridge) + " is not a bridge");
  port.master = bridge;
  operations_.push_back("master " + at(ns, link) + " " + bridge);
}

void FakeNetlink::set_up(const std::string& ns, const std::string& link) {
  existing(ns, link).up = true;
  operations_.push_back("up " + at(ns, link));
}

void FakeNetlink::add_address(const std::string& ns, const std::string& link, const std::string& cidr) {
  const Prefix address = parse(cidr, true);
  LinkState& state = existing(ns, link);
  for (const std::string& other : state.addresses)
    if (parse(other, true).bytes == address.bytes && parse(other, true).family == address.family)
      throw ToolError("address exists: " + cidr + " on " + at(ns, link));
  state.addresses.push_back(cidr);
  operations_.push_back("addr " + at(ns, link) + " " + cidr);
}

// The up link whose subnet holds the gateway, as the kernel finds it; empty when none does.
std::string FakeNetlink::link_for_gateway(const std::string& ns, const std::string& via) const {
  const auto links = namespaces_.find(ns);
  if (links == namespaces_.end()) return "";
  const Prefix gateway = parse(via, false);
  for (const auto& [name, state] : links->second) {
    if (!state.up) continue;
    for (const std::string& address : state.addresses)
      if (parse(address, true).contains(gateway)) return name;
  }
  return "";
}

void FakeNetlink::add_route(const std::string& ns, const std::string& destination, const std::string& via,
                            const std::string& link) {
  const std::string op = "route ns:" + ns + " " + destination + (via.empty() ? "" : " via " + via) +
                         (link.empty() ? "" : " dev " + link);
  if (via.empty() && link.empty()) throw ToolError(op + ": needs a gateway or a link");
  const int family = via.empty() ? AF_INET : parse(via, false).family;
  const Prefix dst = destination == "default" ? parse(family == AF_INET6 ? "::/0" : "0.0.0.0/0", true)
                                              : parse(destination, true);
  if (!via.empty() && dst.family != family) throw ToolError(op + ": gateway and destination families differ");
  if (dst.family == AF_INET && dst.network().bytes != dst.bytes) throw ToolError(op + ": invalid prefix for its length");
  std::string out = link;
  if (!via.empty()) {
    out = link_for_gateway(ns, via);
    if (out.empty() || (!link.empty() && out != link)) throw ToolError(op + ": gateway unreachable");
  } else if (!existing(ns, link).up) {
    throw ToolError(op + ": link is down");
  }
  const std::string normalised = dst.network().text();
  auto& table = routes_[ns];
  if (std::any_of(table.begin(), table.end(), [&](const Route& r) { return r.destination == normalised; }))
    throw ToolError(op + ": route exists");
  table.push_back(Route{normalised, via, out});
  operations_.push_back(op);
}

void FakeNetlink::delete_link(const std::string& ns, const std::string& name) {
  auto links = namespaces_.find(ns);
  if (links == namespaces_.end() || links->second.count(name) == 0) return;
  const LinkState state = links->second.at(name);
  if (state.kind == "lo") throw ToolError("cannot delete " + at(ns, name));
  auto forget = [this](const std::string& where, const std::string& link) {
    namespaces_[where].erase(link);
    for (auto& [port_name, port] : namespaces_[where])
      if (port.master == link) port.master.clear();
    auto& table = routes_[where];
    table.erase(std::remove_if(table.begin(), table.end(), [&](const Route& r) { return r.link == link; }), table.end());
  };
  forget(ns, name);
  if (state.kind == "veth") forget(state.peer_ns, state.peer);  // a veth dies with its peer
  operations_.push_back("delete " + at(ns, name));
}

bool FakeNetlink::link_exists(const std::string& ns, const std::string& name) {
  const auto links = namespaces_.find(ns);
  return name == "lo" || (links != namespaces_.end() && links->second.count(name) != 0);
}

bool FakeNetlink::has_carrier(const std::string& ns, const std::string& name, int depth) const {
  const auto links = namespaces_.find(ns);
  if (depth > kMaxNesting || links == namespaces_.end()) return false;
  const auto it = links->second.find(name);
  if (it == links->second.end() || !it->second.up) return false;
  const LinkState& state = it->second;
  if (state.kind == "veth") {
    const auto peers = namespaces_.find(state.peer_ns);
    if (peers == namespaces_.end()) return false;
    const auto peer = peers->second.find(state.peer);
    return peer != peers->second.end() && peer->second.up;
  }
  if (state.kind == "bridge") {
    for (const auto& [port_name, port] : links->second)
      if (port.master == name && has_carrier(ns, port_name, depth + 1)) return true;
    return false;
  }
  return true;  // lo
}

bool FakeNetlink::link_is_up(const std::string& ns, const std::string& name) { return has_carrier(ns, name, 0); }

std::vector<std::string> FakeNetlink::link_names(const std::string& ns) {
  std::vector<std::string> names{"lo"};
  if (const auto links = namespaces_.find(ns); links != namespaces_.end()) {
    names.clear();
    for (const auto& [name, state] : links->second) names.push_back(name);
  }
  return names;  // std::map keeps them sorted
}

// Explicit routes out of `link`, plus each address's subnet once the link is up (as the kernel
// adds them; a full-length address adds none).
std::vector<std::string> FakeNetlink::routes_via(const std::string& ns, const std::string& link) {
  std::vector<std::string> routes;
  if (const auto table = routes_.find(ns); table != routes_.end())
    for (const Route& route : table->second)
      if (route.link == link) routes.push_back(route.destination);
  const auto links = namespaces_.find(ns);
  if (links != namespaces_.end()) {
    const auto it = links->second.find(link);
    if (it != links->second.end() && it->second.up)
      for (const std::string& address : it->second.addresses) {
        const Prefix prefix = parse(address, true);
        if (prefix.length < prefix.bits()) routes.push_back(prefix.network().text());
      }
  }
  std::sort(routes.begin(), routes.end());
  routes.erase(std::unique(routes.begin(), routes.end()), routes.end());
  return routes;
}

std::vector<std::string> FakeNetlink::addresses(const std::string& ns, const std::string& link) const {
  const auto links = namespaces_.find(ns);
  if (links == namespaces_.end()) return {};
  const auto it = links->second.find(link);
  return it == links->second.end() ? std::vector<std::string>{} : it->second.addresses;
}

std::vector<std::string> FakeNetlink::namespaces() const {
  std::vector<std::string> names;
  for (const auto& [name, links] : namespaces_) names.push_back(name);
  return names;
}

}  // namespace netpol::live
