#include "audit_render.h"

#include <fmt/format.h>

#include <algorithm>

namespace netpol::audit {

using json = nlohmann::ordered_json;

namespace {

std::string source_title(const Vertex& v, const ir::Policy& p) {
  if (v.kind == VertexKind::host) {
    auto h = p.find_host(v.name);
    int z = h ? p.hosts[static_cast<std::size_t>(*h)].zone : -1;
    return v.name + " (host" + (z >= 0 ? " in " + p.zones[static_cast<std::size_t>(z)].name : std::string()) + ")";
  }
  std::string out = v.name + (v.catch_all ? " (zone, catch-all: the internet" : " (zone");
  for (std::size_t i = 0; i < v.except.size(); ++i) out += (i ? ", " : ", other than ") + v.except[i];
  return out + ")";
}

std::string how(const Reached& r) {
  return r.direct ? "direct" : std::to_string(r.hops) + (r.hops == 1 ? " hop" : " hops");
}

std::string dot_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}


}  // namespace

json vertex_json(const Vertex& v) {
  json j;
  j["name"] = v.name;
  j["kind"] = to_string(v.kind);
  switch (v.kind) {
    case VertexKind::zone:
      j["catch_all"] = v.catch_all;
      j["except"] = v.except;
      break;
    case VertexKind::host: break;
    case VertexKind::service:
      j[v.atom.host ? "host" : "zone"] = v.atom.name;
      if (!v.atom.host) j["except"] = v.except;
      j["proto"] = ir::to_string(v.proto);
      j["ports"] = {v.ports.first, v.ports.last};
      break;
    case VertexKind::published:
      j["domain"] = v.domain;
      j["proxy"] = v.atom.name;
      j["proto"] = ir::to_string(v.proto);
      j["ports"] = {v.ports.first, v.ports.last};
      break;
  }
  return j;
}

json path_json(const Exposure& e, const std::vector<Step>& path) {
  json out = json::array();
  for (const auto& s : path) {
    json j;
    j["from"] = e.vertex(s.from).name;
    j["to"] = e.vertex(s.to).name;
    j["kind"] = to_string(s.edge.kind);
    j["rules"] = s.edge.rules;
    j["label"] = s.edge.label;
    j["text"] = s.edge.text;
    out.push_back(std::move(j));
  }
  return out;
}

json audit_json(const ir::Policy& p, const Exposure& e) {
  json out;
  out["format"] = "netpol-audit/1";
  out["policy"] = p.entry;
  out["policy_sha256"] = p.policy_sha256;
  json sources = json::array();
  for (const auto& s : e.sources()) {
    json js = vertex_json(e.vertex(s.vertex));
    json reaches = json::array();
    for (const auto& r : s.reached) {
      json jr;
      jr["target"] = vertex_json(e.vertex(r.vertex));
      jr["direct"] = r.direct;
      jr["hops"] = r.hops;
      jr["path"] = path_json(e, r.path);
      reaches.push_back(std::move(jr));
    }
    js["reaches"] = std::move(reaches);
    sources.push_back(std::move(js));
  }
  out["sources"] = std::move(sources);
  json vertices = json::array();
  json edges = json::array();
  const auto& g = e.graph();
  for (std::size_t v = 0; v < boost::num_vertices(g); ++v) vertices.push_back(vertex_json(g[v]));
  for (std::size_t v = 0; v < boost::num_vertices(g); ++v) {
    for (auto [it, end] = boost::out_edges(v, g); it != end; ++it) {
      json j;
      j["from"] = g[v].name;
      j["to"] = g[boost::target(*it, g)].name;
      j["kind"] = to_string(g[*it].kind);
      j["rules"] = g[*it].rules;
      j["label"] = g[*it].label;
      edges.push_back(std::move(j));
    }
  }
  out["graph"] = {{"vertices", std::move(vertices)}, {"edges", std::move(edges)}};
  return out;
}

std::string audit_text(const ir::Policy& p, const Exposure& e) {
  std::string out = "Exposure of " + p.entry + ": what each zone and host reaches, directly and through the proxy and the VPN.\n";
  for (const auto& s : e.sources()) {
    const auto& v = e.vertex(s.vertex);
    out += "\n" + source_title(v, p);
    if (s.reached.empty()) {
      out += " reaches nothing\n";
      continue;
    }
    out += fmt::format(" reaches {}:\n", s.reached.size());
    std::size_t w = 0;
    for (const auto& r : s.reached) w = std::max(w, e.vertex(r.vertex).name.size());
    for (const auto& r : s.reached)
      out += fmt::format("  {:<7} {:<{}}  {}\n", how(r), e.vertex(r.vertex).name, w, e.path_text(r.path));
  }
  return out;
}

std::string audit_markdown(const ir::Policy& p, const Exposure& e) {
  std::string out = "# Exposure of `" + p.entry + "`\n\nWhat each zone and host reaches, directly and through the "
                    "reverse proxy and the VPN, with the shortest path. The internet first.\n";
  for (const auto& s : e.sources()) {
    out += "\n## " + source_title(e.vertex(s.vertex), p) + "\n\n";
    if (s.reached.empty()) {
      out += "Reaches nothing.\n";
      continue;
    }
    out += "| reaches | how | path |\n| --- | --- | --- |\n";
    for (const auto& r : s.reached)
      out += "| `" + md_cell(e.vertex(r.vertex).name) + "` | " + how(r) + " | " + md_cell(e.path_text(r.path)) + " |\n";
  }
  return out;
}

std::string audit_dot(const ir::Policy& p, const Exposure& e) {
  const auto& g = e.graph();
  auto id = [](std::size_t v) { return "v" + std::to_string(v); };
  auto node = [&](std::size_t v) {
    const auto& x = g[v];
    std::string attrs;
    switch (x.kind) {
      case VertexKind::zone:
        attrs = x.catch_all ? "shape=doubleoctagon, style=filled, fillcolor=\"#f4c7c3\""
                            : "shape=box, style=\"rounded,filled\", fillcolor=\"#dbe8f6\"";
        break;
      case VertexKind::host: attrs = "shape=box3d"; break;
      case VertexKind::service: attrs = "shape=ellipse"; break;
      case VertexKind::published: attrs = "shape=note, style=filled, fillcolor=\"#e2f2d5\""; break;
    }
    return "  " + id(v) + " [label=" + dot_quote(x.name) + ", " + attrs + "];\n";
  };
  std::string out = "// netpolc audit " + p.entry + "\ndigraph exposure {\n  rankdir=LR;\n"
                    "  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n";
  std::vector<bool> placed(boost::num_vertices(g), false);
  // One cluster per host: the host, its services and the names published on it.
  for (std::size_t h = 0; h < boost::num_vertices(g); ++h) {
    if (g[h].kind != VertexKind::host) continue;
    out += "  subgraph " + dot_quote("cluster_" + g[h].name) + " {\n  label=" + dot_quote(g[h].name) +
           ";\n  style=dashed;\n";
    for (std::size_t v = 0; v < boost::num_vertices(g); ++v) {
      if (g[v].atom.host && g[v].atom.name == g[h].name) {
        out += "  " + node(v);
        placed[v] = true;
      }
    }
    out += "  }\n";
  }
  for (std::size_t v = 0; v < boost::num_vertices(g); ++v)
    if (!placed[v]) out += node(v);
  for (std::size_t v = 0; v < boost::num_vertices(g); ++v) {
    for (auto [it, end] = boost::out_edges(v, g); it != end; ++it) {
      const auto& ed = g[*it];
      std::string style;
      switch (ed.kind) {
        case EdgeKind::flow: style = "color=\"#333333\""; break;
        case EdgeKind::vpn: style = "color=\"#1f5fbf\", style=dashed, penwidth=2"; break;
        case EdgeKind::proxy_name:
        case EdgeKind::proxy_backend: style = "color=\"#3b8a2e\", penwidth=2"; break;
      }
      out += "  " + id(v) + " -> " + id(boost::target(*it, g)) + " [label=" + dot_quote(ed.label) + ", " + style + "];\n";
    }
  }
  return out + "}\n";
}

std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace netpol::audit
