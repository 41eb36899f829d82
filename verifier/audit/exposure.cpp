#include "exposure.h"

#include <algorithm>
#include <boost/graph/breadth_first_search.hpp>
#include <set>

namespace netpol::audit {

using ir::Endpoint;

PortSet merge(std::vector<ir::PortRange> ranges) {
  std::sort(ranges.begin(), ranges.end());
  PortSet out;
  for (const auto& r : ranges) {
    if (!out.empty() && static_cast<long>(r.first) <= static_cast<long>(out.back().last) + 1) {
      out.back().last = std::max(out.back().last, r.last);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

PortSet subtract(const PortSet& a, const PortSet& b) {
  PortSet out;
  for (const auto& r : a) {
    long cursor = r.first;
    for (const auto& x : b) {
      if (x.last < cursor || x.first > r.last) continue;
      if (x.first > cursor) out.push_back({static_cast<std::uint16_t>(cursor), static_cast<std::uint16_t>(x.first - 1)});
      cursor = static_cast<long>(x.last) + 1;
    }
    if (cursor <= r.last) out.push_back({static_cast<std::uint16_t>(cursor), r.last});
  }
  return out;
}

bool overlaps(const ir::PortRange& a, const ir::PortRange& b) { return a.first <= b.last && b.first <= a.last; }

namespace {

AtomKey key_of(const ir::Policy& p, const Endpoint& e) {
  return {e.kind == Endpoint::Kind::host, p.name_of(e)};
}

// A flow end's atoms: a host, or a zone's rest plus its own hosts not excepted (nested zones are their own).
std::vector<AtomKey> atoms_of(const ir::Policy& p, const ir::FlowEnd& end) {
  if (end.endpoint.kind == Endpoint::Kind::host) return {key_of(p, end.endpoint)};
  std::vector<AtomKey> out{key_of(p, end.endpoint)};
  for (std::size_t h = 0; h < p.hosts.size(); ++h) {
    if (p.hosts[h].zone != end.endpoint.id) continue;
    if (std::binary_search(end.except_hosts.begin(), end.except_hosts.end(), static_cast<int>(h))) continue;
    out.push_back({true, p.hosts[h].name});
  }
  return out;
}

std::vector<AtomKey> atoms_of(const ir::Policy& p, const Endpoint& e) { return atoms_of(p, ir::FlowEnd{e, {}}); }

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// The rules deciding the allowed pieces that overlap `range`, in port order, each once.
std::vector<int> rules_over(const AtomFlows& f, ir::PortRange range) {
  std::vector<int> out;
  for (const auto& [r, rule] : f.pieces)
    if (overlaps(r, range) && std::find(out.begin(), out.end(), rule) == out.end()) out.push_back(rule);
  return out;
}

bool allows(const AtomFlows* f, ir::PortRange range) {
  if (!f) return false;
  return subtract({range}, f->ports).empty();
}

std::string origin_text(const ir::Policy& p, ir::Origin origin, int index, const std::string& fallback) {
  for (const auto& r : p.rules)
    if (r.origin == origin && r.origin_index == index) return r.text;
  return fallback;
}

}  // namespace

AtomMatrix atom_matrix(const ir::Policy& p) {
  AtomMatrix m;
  for (const auto& f : p.flows)
    for (const auto& s : atoms_of(p, f.source))
      for (const auto& d : atoms_of(p, f.destination)) m[{s, d, f.proto}].pieces.push_back({f.ports, f.rule});
  for (auto& [key, f] : m) {
    std::sort(f.pieces.begin(), f.pieces.end());
    std::vector<ir::PortRange> ranges;
    for (const auto& piece : f.pieces) ranges.push_back(piece.first);
    f.ports = merge(std::move(ranges));
  }
  return m;
}

std::string to_string(VertexKind k) {
  switch (k) {
    case VertexKind::zone: return "zone";
    case VertexKind::host: return "host";
    case VertexKind::service: return "service";
    case VertexKind::published: return "published";
  }
  return "?";
}

std::string to_string(EdgeKind k) {
  switch (k) {
    case EdgeKind::flow: return "flow";
    case EdgeKind::vpn: return "vpn";
    case EdgeKind::proxy_name: return "proxy-name";
    case EdgeKind::proxy_backend: return "proxy-backend";
  }
  return "?";
}

int Exposure::add_vertex(Vertex v) {
  auto name = v.name;
  int id = static_cast<int>(boost::add_vertex(std::move(v), graph_));
  by_name_.emplace(name, id);
  return id;
}

int Exposure::service_vertex(const AtomKey& atom, ir::Proto proto, ir::PortRange ports) {
  auto name = atom.name + ":" + ir::ServicePort{proto, ports}.str();
  if (auto it = by_name_.find(name); it != by_name_.end()) return it->second;
  Vertex v{VertexKind::service, name, atom, {}, proto, ports, {}, false};
  if (!atom.host) {
    auto z = policy_.find_zone(atom.name);
    for (const auto& h : policy_.hosts)
      if (z && h.zone == *z) v.except.push_back(h.name);
  }
  return add_vertex(std::move(v));
}

void Exposure::add_edge(int from, int to, Edge e) {
  boost::add_edge(static_cast<Graph::vertex_descriptor>(from), static_cast<Graph::vertex_descriptor>(to), std::move(e),
                  graph_);
}

Exposure::Exposure(const ir::Policy& p) : policy_(p) {
  const auto m = atom_matrix(p);
  auto find = [&](const AtomKey& s, const AtomKey& d, ir::Proto proto) -> const AtomFlows* {
    auto it = m.find({s, d, proto});
    return it == m.end() ? nullptr : &it->second;
  };
  auto where = [&](const std::vector<int>& rules) {
    std::vector<std::string> out;
    for (int r : rules) out.push_back(p.rules[static_cast<std::size_t>(r)].location.where());
    return out;
  };
  auto first_text = [&](const std::vector<int>& rules) {
    return rules.empty() ? std::string() : p.rules[static_cast<std::size_t>(rules.front())].text;
  };

  // Sources: the internet (catch-all zones) first, then the other zones, then hosts; each in policy order.
  std::map<AtomKey, int> source_of;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& z : p.zones) {
      if (z.catch_all != (pass == 0)) continue;
      Vertex v{VertexKind::zone, z.name, {false, z.name}, {}, ir::Proto::tcp, {}, {}, z.catch_all};
      for (const auto& h : p.hosts)
        if (h.zone >= 0 && p.zones[static_cast<std::size_t>(h.zone)].name == z.name) v.except.push_back(h.name);
      auto atom = v.atom;
      source_of[atom] = add_vertex(std::move(v));
    }
  }
  for (const auto& h : p.hosts) {
    source_of[{true, h.name}] = add_vertex(Vertex{VertexKind::host, h.name, {true, h.name}, {}, ir::Proto::tcp, {}, {}, false});
  }

  // Direct flows, in name order (independent of the rules' order).
  for (const auto& [key, f] : m) {
    const auto& [s, d, proto] = key;
    for (const auto& range : f.ports) {
      auto rules = rules_over(f, range);
      auto locations = where(rules);
      add_edge(source_of.at(s), service_vertex(d, proto, range),
               Edge{EdgeKind::flow, locations, join(locations, ", "), first_text(rules)});
    }
  }

  // Reverse-proxy hops: who may use each published name, and the backend it leads to.
  for (std::size_t i = 0; i < p.publishes.size(); ++i) {
    const auto& pub = p.publishes[i];
    AtomKey proxy{true, p.hosts[static_cast<std::size_t>(pub.proxy)].name};
    AtomKey backend{true, p.hosts[static_cast<std::size_t>(pub.backend)].name};
    auto text = origin_text(p, ir::Origin::publish, static_cast<int>(i), "publish " + pub.domain);
    int name = add_vertex(Vertex{VertexKind::published, proxy.name + ":" + pub.listen_port.str() + " [" + pub.domain + "]",
                                 proxy, {}, pub.listen_port.proto, pub.listen_port.range, pub.domain, false});
    std::set<AtomKey> seen;
    for (const auto& from : pub.from) {
      for (const auto& s : atoms_of(p, from)) {
        if (!seen.insert(s).second) continue;
        const auto* f = find(s, proxy, pub.listen_port.proto);
        if (!allows(f, pub.listen_port.range)) continue;
        auto locations = where(rules_over(*f, pub.listen_port.range));
        add_edge(source_of.at(s), name,
                 Edge{EdgeKind::proxy_name, locations,
                      join(locations, ", ") + "; publish " + pub.location.where(), text});
      }
    }
    const auto* f = find(proxy, backend, pub.backend_port.proto);
    if (allows(f, pub.backend_port.range)) {
      auto rules = rules_over(*f, pub.backend_port.range);
      auto locations = where(rules);
      add_edge(name, service_vertex(backend, pub.backend_port.proto, pub.backend_port.range),
               Edge{EdgeKind::proxy_backend, locations, "proxied; " + join(locations, ", "), first_text(rules)});
    }
  }

  // The VPN: whoever reaches the server's listen port joins the pool (its rest, and its fixed-address hosts).
  for (std::size_t i = 0; i < p.vpns.size(); ++i) {
    const auto& vpn = p.vpns[i];
    AtomKey server{true, p.hosts[static_cast<std::size_t>(vpn.server)].name};
    const auto& pool = p.zones[static_cast<std::size_t>(vpn.pool)];
    auto text = origin_text(p, ir::Origin::vpn, static_cast<int>(i), "vpn " + vpn.name);
    std::vector<int> pool_vertices{source_of.at({false, pool.name})};
    for (const auto& pa : atoms_of(p, Endpoint{Endpoint::Kind::zone, vpn.pool}))
      if (pa.host) pool_vertices.push_back(source_of.at(pa));
    auto n = static_cast<int>(boost::num_vertices(graph_));
    for (int v = 0; v < n; ++v) {
      const auto& vx = vertex(v);
      if (vx.kind != VertexKind::service || vx.atom != server || vx.proto != vpn.listen.proto ||
          !overlaps(vx.ports, vpn.listen.range))
        continue;
      for (int pv : pool_vertices)
        add_edge(v, pv, Edge{EdgeKind::vpn, {vpn.location.where()},
                             "vpn " + vpn.name + ", " + vpn.location.where(), text});
    }
  }

  // Breadth-first from every source: the fewest hops, ties broken by the graph's stable order.
  struct Recorder : boost::default_bfs_visitor {
    std::vector<int>* hops;
    std::vector<Graph::edge_descriptor>* via;
    void tree_edge(Graph::edge_descriptor e, const Graph& g) const {
      auto s = boost::source(e, g), t = boost::target(e, g);
      (*hops)[t] = (*hops)[s] + 1;
      (*via)[t] = e;
    }
  };
  auto n = boost::num_vertices(graph_);
  for (std::size_t src = 0; src < n; ++src) {
    const auto& sv = graph_[src];
    if (sv.kind != VertexKind::zone && sv.kind != VertexKind::host) continue;
    std::vector<int> hops(n, -1);
    std::vector<Graph::edge_descriptor> via(n);
    hops[src] = 0;
    Recorder rec;
    rec.hops = &hops;
    rec.via = &via;
    boost::breadth_first_search(graph_, src, boost::visitor(rec));
    SourceReach reach{static_cast<int>(src), {}};
    for (std::size_t v = 0; v < n; ++v) {
      if (v == src || hops[v] < 0) continue;
      Reached r{static_cast<int>(v), hops[v], false, {}};
      for (auto at = v; at != src;) {
        auto e = via[at];
        auto from = boost::source(e, graph_);
        r.path.push_back({static_cast<int>(from), static_cast<int>(at), graph_[e]});
        at = from;
      }
      std::reverse(r.path.begin(), r.path.end());
      r.direct = r.hops == 1 && r.path.front().edge.kind == EdgeKind::flow;
      reach.reached.push_back(std::move(r));
    }
    std::stable_sort(reach.reached.begin(), reach.reached.end(), [&](const Reached& a, const Reached& b) {
      return std::tie(a.hops, vertex(a.vertex).name) < std::tie(b.hops, vertex(b.vertex).name);
    });
    sources_.push_back(std::move(reach));
  }
}

const SourceReach* Exposure::source(const std::string& name) const {
  for (const auto& s : sources_)
    if (vertex(s.vertex).name == name) return &s;
  return nullptr;
}

std::string Exposure::path_text(const std::vector<Step>& path) const {
  if (path.empty()) return {};
  std::string out = vertex(path.front().from).name;
  for (const auto& s : path) out += " -> " + vertex(s.to).name + " [" + s.edge.label + "]";
  return out;
}

}  // namespace netpol::audit
