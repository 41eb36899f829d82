#include "matrix.h"

#include <algorithm>

namespace netpol {

using ir::Endpoint;

Matrix::Matrix(const ir::Policy& policy) : policy_(policy), zone_hosts_(policy.zones.size()) {
  for (std::size_t h = 0; h < policy.hosts.size(); ++h)
    if (policy.hosts[h].zone >= 0) zone_hosts_[static_cast<std::size_t>(policy.hosts[h].zone)].push_back(static_cast<int>(h));

  for (std::size_t r = 0; r < policy.rules.size(); ++r) {
    const auto& rule = policy.rules[r];
    bool allow = rule.action == ir::Action::allow;
    for (const auto& s : rule.sources) {
      for (const auto& d : rule.destinations) {
        for (const auto& svc : rule.services) {
          auto src_atoms = atoms(s);
          auto dst_atoms = atoms(d);
          std::vector<ir::Flow> pieces;
          bool whole = true;  // every atom pair got the whole range from this rule
          for (int sa : src_atoms) {
            for (int da : dst_atoms) {
              auto fresh = decide_range({sa, da, svc.port.proto}, svc.port.range, static_cast<int>(r), allow);
              if (fresh.size() != 1 || fresh[0] != svc.port.range) whole = false;
              for (const auto& range : fresh)
                pieces.push_back({atom_end(sa), atom_end(da), svc.port.proto, range, static_cast<int>(r)});
            }
          }
          if (!allow) continue;
          if (whole) {
            flows_.push_back({{s, {}}, {d, {}}, svc.port.proto, svc.port.range, static_cast<int>(r)});
          } else {
            for (auto& p : pieces) flows_.push_back(std::move(p));
          }
        }
      }
    }
  }
}

std::vector<int> Matrix::atoms(const Endpoint& e) const {
  if (e.kind == Endpoint::Kind::host) return {e.id};
  std::vector<int> out{atom_of(e)};
  for (int h : zone_hosts_[static_cast<std::size_t>(e.id)]) out.push_back(h);
  return out;
}

int Matrix::atom_of(const Endpoint& e) const {
  return e.kind == Endpoint::Kind::host ? e.id : static_cast<int>(policy_.hosts.size()) + e.id;
}

ir::FlowEnd Matrix::atom_end(int atom) const {
  auto hosts = static_cast<int>(policy_.hosts.size());
  if (atom < hosts) return {{Endpoint::Kind::host, atom}, {}};
  int zone = atom - hosts;
  return {{Endpoint::Kind::zone, zone}, zone_hosts_[static_cast<std::size_t>(zone)]};
}

std::vector<ir::PortRange> Matrix::decide_range(const Key& key, ir::PortRange range, int rule, bool allow) {
  auto& pieces = decided_[key];  // sorted, disjoint
  std::vector<ir::PortRange> fresh;
  long cursor = range.first;
  for (const auto& p : pieces) {
    if (p.range.last < cursor) continue;
    if (p.range.first > range.last) break;
    if (p.range.first > cursor)
      fresh.push_back({static_cast<std::uint16_t>(cursor), static_cast<std::uint16_t>(p.range.first - 1)});
    cursor = static_cast<long>(p.range.last) + 1;
    if (cursor > range.last) break;
  }
  if (cursor <= range.last) fresh.push_back({static_cast<std::uint16_t>(cursor), range.last});
  for (const auto& f : fresh) pieces.push_back({f, rule, allow});
  std::sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) { return a.range.first < b.range.first; });
  return fresh;
}

std::vector<ir::Flow> Matrix::allowed(const Endpoint& source, const Endpoint& destination,
                                      const ir::ServicePort& port) const {
  std::vector<ir::Flow> out;
  for (int sa : atoms(source)) {
    for (int da : atoms(destination)) {
      auto it = decided_.find({sa, da, port.proto});
      if (it == decided_.end()) continue;
      for (const auto& p : it->second) {
        if (!p.allow || p.range.last < port.range.first || p.range.first > port.range.last) continue;
        ir::PortRange overlap{std::max(p.range.first, port.range.first), std::min(p.range.last, port.range.last)};
        out.push_back({atom_end(sa), atom_end(da), port.proto, overlap, p.rule});
      }
    }
  }
  return out;
}

Matrix::Verdict Matrix::decide(const Endpoint& source, const Endpoint& destination, ir::Proto proto,
                               std::uint16_t port) const {
  auto it = decided_.find({atom_of(source), atom_of(destination), proto});
  if (it == decided_.end()) return {};
  for (const auto& p : it->second)
    if (p.range.first <= port && port <= p.range.last) return {p.allow, p.rule};
  return {};
}

}  // namespace netpol
