#pragma once
// The exposure graph (netpolc audit): who can reach what, directly and through the
// reverse proxy and the VPN, with the shortest path. Reads only the IR's resolved
// flows, VPNs and published names. See docs/audit.md.
//
// Vertices
//   zone       a device of the zone that is not one of the zone's own hosts (a source)
//   host       a host (a source)
//   service    a destination atom (host, or the rest of a zone) with a protocol and ports
//   published  a published name on its proxy's listen port ("vm-extranet:tcp/443 [jellyfin.home.arpa]")
// Edges
//   flow           source atom -> service: a row of the resolved matrix
//   vpn            VPN server:listen -> the pool zone (and the pool's hosts): a client joins the pool
//   proxy-name     source atom -> published name: the source may use the name (its `from`) and
//                  the matrix lets it reach the proxy's listen port
//   proxy-backend  published name -> backend:port, when the matrix lets the proxy reach it
#include <boost/graph/adjacency_list.hpp>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "ir.h"

namespace netpol::audit {

// Sorted, disjoint, non-adjacent port ranges.
using PortSet = std::vector<ir::PortRange>;
PortSet merge(std::vector<ir::PortRange> ranges);
PortSet subtract(const PortSet& a, const PortSet& b);
bool overlaps(const ir::PortRange& a, const ir::PortRange& b);

// An atom named so two policies can be compared: a host, or the rest of a zone.
struct AtomKey {
  bool host = false;
  std::string name;
  auto operator<=>(const AtomKey&) const = default;
};

// The resolved matrix per (source atom, destination atom, protocol): the allowed ports, merged,
// and for each allowed piece the rule that decides it.
struct AtomFlows {
  PortSet ports;
  std::vector<std::pair<ir::PortRange, int>> pieces;  // sorted by port
};
using AtomMatrix = std::map<std::tuple<AtomKey, AtomKey, ir::Proto>, AtomFlows>;
AtomMatrix atom_matrix(const ir::Policy& policy);

enum class VertexKind { zone, host, service, published };
enum class EdgeKind { flow, vpn, proxy_name, proxy_backend };
std::string to_string(VertexKind k);
std::string to_string(EdgeKind k);

struct Vertex {
  VertexKind kind = VertexKind::zone;
  std::string name;                 // unique in the graph
  AtomKey atom;                     // the zone or host it stands for (service: the destination)
  std::vector<std::string> except;  // a zone atom: the zone's own hosts, not part of it
  ir::Proto proto = ir::Proto::tcp; // service, published
  ir::PortRange ports;              // service, published (the listen port)
  std::string domain;               // published
  bool catch_all = false;           // zone: the internet
};

struct Edge {
  EdgeKind kind = EdgeKind::flow;
  std::vector<std::string> rules;   // "flows.npol:47": the matrix rows' rules this edge stands for
  std::string label;                // short, for paths and pictures
  std::string text;                 // the deciding policy statement
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, Vertex, Edge>;

struct Step {
  int from = -1;
  int to = -1;
  Edge edge;
};

struct Reached {
  int vertex = -1;
  int hops = 0;
  bool direct = false;       // one matrix row: no proxy, no VPN in between
  std::vector<Step> path;    // the shortest path (breadth-first, first found in a stable order)
};

struct SourceReach {
  int vertex = -1;
  std::vector<Reached> reached;  // by hops, then name
};

class Exposure {
 public:
  explicit Exposure(const ir::Policy& policy);

  const Graph& graph() const { return graph_; }
  const Vertex& vertex(int v) const { return graph_[static_cast<Graph::vertex_descriptor>(v)]; }
  // Every zone and host as a source: catch-all zones (the internet) first, then zones, then hosts.
  const std::vector<SourceReach>& sources() const { return sources_; }
  const SourceReach* source(const std::string& name) const;
  // "a -> b [label] -> c [label]"
  std::string path_text(const std::vector<Step>& path) const;

 private:
  int add_vertex(Vertex v);
  int service_vertex(const AtomKey& atom, ir::Proto proto, ir::PortRange ports);
  void add_edge(int from, int to, Edge e);

  const ir::Policy& policy_;
  Graph graph_;
  std::map<std::string, int> by_name_;
  std::vector<SourceReach> sources_;
};

}  // namespace netpol::audit
