#include "diff.h"

#include <algorithm>
#include <map>
#include <set>

#include "audit_render.h"

namespace netpol::audit {

using json = nlohmann::ordered_json;

namespace {

std::vector<FlowChange> flow_changes(const ir::Policy& has, const AtomMatrix& a, const AtomMatrix& b) {
  std::vector<FlowChange> out;
  for (const auto& [key, f] : a) {
    const auto& [s, d, proto] = key;
    auto it = b.find(key);
    auto only = it == b.end() ? f.ports : subtract(f.ports, it->second.ports);
    for (const auto& range : only) {
      FlowChange c{s, d, {proto, range}, {}, {}};
      for (const auto& [r, rule] : f.pieces) {
        if (!overlaps(r, range)) continue;
        auto where = has.rules[static_cast<std::size_t>(rule)].location.where();
        if (std::find(c.rules.begin(), c.rules.end(), where) != c.rules.end()) continue;
        if (c.rules.empty()) c.text = has.rules[static_cast<std::size_t>(rule)].text;
        c.rules.push_back(where);
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

// What one source reaches, comparable across policies.
struct Reach {
  std::map<std::pair<AtomKey, ir::Proto>, PortSet> services;
  std::set<std::pair<std::string, std::string>> others;  // (kind, name): zones joined, names usable
};

std::map<AtomKey, Reach> reach_of(const Exposure& e) {
  std::map<AtomKey, Reach> out;
  for (const auto& s : e.sources()) {
    auto& r = out[e.vertex(s.vertex).atom];
    std::map<std::pair<AtomKey, ir::Proto>, std::vector<ir::PortRange>> ranges;
    for (const auto& x : s.reached) {
      const auto& v = e.vertex(x.vertex);
      if (v.kind == VertexKind::service) ranges[{v.atom, v.proto}].push_back(v.ports);
      else r.others.insert({to_string(v.kind), v.name});
    }
    for (auto& [k, list] : ranges) r.services[k] = merge(std::move(list));
  }
  return out;
}

// What `a`'s sources reach that `b`'s do not, with the path in `a`.
std::vector<ExposureChange> exposure_changes(const Exposure& a, const Exposure& b) {
  auto ra = reach_of(a);
  auto rb = reach_of(b);
  std::vector<ExposureChange> out;
  for (const auto& s : a.sources()) {
    auto atom = a.vertex(s.vertex).atom;
    const auto& mine = ra[atom];
    auto theirs_it = rb.find(atom);
    Reach none;
    const auto& theirs = theirs_it == rb.end() ? none : theirs_it->second;
    for (const auto& [k, ports] : mine.services) {
      auto it = theirs.services.find(k);
      auto only = it == theirs.services.end() ? ports : subtract(ports, it->second);
      for (const auto& range : only) {
        for (const auto& x : s.reached) {  // by hops: the first overlapping vertex has the shortest path
          const auto& v = a.vertex(x.vertex);
          if (v.kind != VertexKind::service || v.atom != k.first || v.proto != k.second || !overlaps(v.ports, range))
            continue;
          out.push_back({atom, k.first.name + ":" + ir::ServicePort{k.second, range}.str(), "service",
                         a.path_text(x.path), path_json(a, x.path)});
          break;
        }
      }
    }
    for (const auto& x : s.reached) {
      const auto& v = a.vertex(x.vertex);
      if (v.kind == VertexKind::service || theirs.others.count({to_string(v.kind), v.name})) continue;
      out.push_back({atom, v.name, to_string(v.kind), a.path_text(x.path), path_json(a, x.path)});
    }
  }
  return out;
}

json atom_json(const AtomKey& a) { return {{"kind", a.host ? "host" : "zone"}, {"name", a.name}}; }

json flows_json(const std::vector<FlowChange>& list) {
  json out = json::array();
  for (const auto& c : list)
    out.push_back({{"source", atom_json(c.source)},
                   {"destination", atom_json(c.destination)},
                   {"proto", ir::to_string(c.port.proto)},
                   {"ports", {c.port.range.first, c.port.range.last}},
                   {"service", c.port.str()},
                   {"rules", c.rules},
                   {"text", c.text}});
  return out;
}

json exposure_json(const std::vector<ExposureChange>& list) {
  json out = json::array();
  for (const auto& c : list)
    out.push_back({{"source", atom_json(c.source)}, {"target", c.target}, {"kind", c.kind}, {"path", c.path_json}});
  return out;
}

std::string md_flows(const std::string& title, const std::vector<FlowChange>& list) {
  if (list.empty()) return {};
  std::string out = "\n### " + title + "\n\n| source | destination | service | rule |\n| --- | --- | --- | --- |\n";
  for (const auto& c : list) {
    std::string rule;
    for (std::size_t i = 0; i < c.rules.size(); ++i) rule += (i ? ", " : "") + c.rules[i];
    out += "| `" + c.source.name + "` | `" + c.destination.name + "` | " + c.port.str() + " | " + rule + " `" +
           md_cell(c.text) + "` |\n";
  }
  return out;
}

std::string md_exposure(const std::string& title, const std::string& column, const std::vector<ExposureChange>& list) {
  if (list.empty()) return {};
  std::string out = "\n### " + title + "\n\n| source | " + column + " | path |\n| --- | --- | --- |\n";
  for (const auto& c : list)
    out += "| `" + c.source.name + "` | `" + md_cell(c.target) + "` | " + md_cell(c.path) + " |\n";
  return out;
}

std::string count(std::size_t n) { return std::to_string(n); }

}  // namespace

PolicyDiff diff_policies(const ir::Policy& old_policy, const ir::Policy& new_policy) {
  PolicyDiff d;
  auto mo = atom_matrix(old_policy);
  auto mn = atom_matrix(new_policy);
  d.added = flow_changes(new_policy, mn, mo);
  d.removed = flow_changes(old_policy, mo, mn);
  Exposure eo(old_policy), en(new_policy);
  d.gained = exposure_changes(en, eo);
  d.lost = exposure_changes(eo, en);
  return d;
}

std::string diff_markdown(const PolicyDiff& d, const std::string& old_name, const std::string& new_name) {
  std::string out = "## netpol diff: `" + old_name + "` -> `" + new_name + "`\n\n";
  if (d.empty()) return out + "No semantic change: both policies allow the same flows and expose the same.\n";
  out += "**Flows:** " + count(d.added.size()) + " added, " + count(d.removed.size()) + " removed. **Exposure:** " +
         count(d.gained.size()) + " gained, " + count(d.lost.size()) + " lost.\n";
  if (!d.gained.empty()) out += "\n> **New exposure:** a source can reach something it could not before.\n";
  out += md_exposure("Exposure gained", "now reaches", d.gained);
  out += md_exposure("Exposure lost", "no longer reaches", d.lost);
  out += md_flows("Flows added", d.added);
  out += md_flows("Flows removed", d.removed);
  return out;
}

json diff_json(const PolicyDiff& d, const ir::Policy& old_policy, const std::string& old_name,
               const ir::Policy& new_policy, const std::string& new_name) {
  json out;
  out["format"] = "netpol-diff/1";
  out["old"] = {{"policy", old_name}, {"policy_sha256", old_policy.policy_sha256}};
  out["new"] = {{"policy", new_name}, {"policy_sha256", new_policy.policy_sha256}};
  out["flows"] = {{"added", flows_json(d.added)}, {"removed", flows_json(d.removed)}};
  out["exposure"] = {{"gained", exposure_json(d.gained)}, {"lost", exposure_json(d.lost)}};
  out["new_exposure"] = !d.gained.empty();
  return out;
}

}  // namespace netpol::audit
