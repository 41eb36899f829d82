#include "drift.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace netpol {

std::string EnforcedRule::str() const {
  return point + " " + direction + " " + source.str() + " -> " + destination.str() + " " +
         ir::ServicePort{proto, ports}.str();
}

namespace {

__extension__ typedef unsigned __int128 U128;  // IPv6 addresses as numbers

struct Interval {
  U128 lo, hi;
};

Interval interval(const Cidr& c) {
  U128 v = 0;
  int bytes = c.family == Family::v4 ? 4 : 16;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | c.bytes[static_cast<std::size_t>(i)];
  int host_bits = c.max_prefix() - c.prefix;
  U128 span = host_bits >= 128 ? ~U128(0) : ((U128(1) << host_bits) - 1);
  return {v, v + span};
}

// Rules that can overlap: same point, direction, family and protocol.
using Bucket = std::tuple<std::string, std::string, Family, ir::Proto>;
using Cell = std::tuple<std::size_t, std::size_t, std::size_t>;  // source, destination, port piece

struct Cuts {
  std::vector<U128> src, dst;
  std::vector<long> ports;
};

// Sorted start points of the pieces that every rule's interval is a union of.
template <typename T>
void add_cut(std::vector<T>& cuts, T lo, T hi, T max) {
  cuts.push_back(lo);
  if (hi != max) cuts.push_back(hi + 1);
}

template <typename T>
std::vector<std::size_t> pieces(const std::vector<T>& cuts, T lo, T hi) {
  std::vector<std::size_t> out;
  auto it = std::lower_bound(cuts.begin(), cuts.end(), lo);
  for (; it != cuts.end() && *it <= hi; ++it) out.push_back(static_cast<std::size_t>(it - cuts.begin()));
  return out;
}

}  // namespace

Drift compare(const std::vector<EnforcedRule>& expected, const std::vector<EnforcedRule>& deployed) {
  std::map<Bucket, Cuts> cuts;
  auto bucket = [](const EnforcedRule& r) { return Bucket{r.point, r.direction, r.source.family, r.proto}; };
  for (const auto* side : {&expected, &deployed}) {
    for (const auto& r : *side) {
      auto& c = cuts[bucket(r)];
      auto s = interval(r.source), d = interval(r.destination);
      add_cut(c.src, s.lo, s.hi, ~U128(0));
      add_cut(c.dst, d.lo, d.hi, ~U128(0));
      add_cut<long>(c.ports, r.ports.first, r.ports.last, 65535);
    }
  }
  for (auto& [b, c] : cuts) {
    for (auto* v : {&c.src, &c.dst}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    std::sort(c.ports.begin(), c.ports.end());
    c.ports.erase(std::unique(c.ports.begin(), c.ports.end()), c.ports.end());
  }
  auto cells_of = [&](const EnforcedRule& r) {
    const auto& c = cuts.at(bucket(r));
    auto s = interval(r.source), d = interval(r.destination);
    std::vector<Cell> out;
    for (auto si : pieces(c.src, s.lo, s.hi))
      for (auto di : pieces(c.dst, d.lo, d.hi))
        for (auto pi : pieces<long>(c.ports, r.ports.first, r.ports.last)) out.emplace_back(si, di, pi);
    return out;
  };
  std::map<Bucket, std::set<Cell>> have_expected, have_deployed;
  for (const auto& r : expected)
    for (auto& cell : cells_of(r)) have_expected[bucket(r)].insert(cell);
  for (const auto& r : deployed)
    for (auto& cell : cells_of(r)) have_deployed[bucket(r)].insert(cell);
  auto covered = [&](const EnforcedRule& r, std::map<Bucket, std::set<Cell>>& other) {
    auto& set = other[bucket(r)];
    auto cells = cells_of(r);
    return std::all_of(cells.begin(), cells.end(), [&](const Cell& c) { return set.count(c) > 0; });
  };

  Drift drift;
  for (const auto& r : expected)
    if (!covered(r, have_deployed)) drift.missing.push_back(r);
  for (const auto& r : deployed)
    if (!covered(r, have_expected)) drift.extra.push_back(r);
  // The same who and where with other ports reads better as one change.
  for (auto m = drift.missing.begin(); m != drift.missing.end();) {
    auto e = std::find_if(drift.extra.begin(), drift.extra.end(), [&](const EnforcedRule& x) {
      return x.point == m->point && x.direction == m->direction && x.source == m->source &&
             x.destination == m->destination && x.proto == m->proto;
    });
    if (e == drift.extra.end()) {
      ++m;
      continue;
    }
    drift.changed.emplace_back(*m, *e);
    drift.extra.erase(e);
    m = drift.missing.erase(m);
  }
  auto sort = [](auto& v) { std::sort(v.begin(), v.end()); v.erase(std::unique(v.begin(), v.end()), v.end()); };
  sort(drift.missing);
  sort(drift.extra);
  return drift;
}

std::string drift_text(const Drift& d) {
  std::string out;
  for (const auto& r : d.missing) out += "missing: " + r.str() + (r.origin.empty() ? "" : "  (" + r.origin + ")") + "\n";
  for (const auto& r : d.extra) out += "extra:   " + r.str() + (r.origin.empty() ? "" : "  (" + r.origin + ")") + "\n";
  for (const auto& [want, have] : d.changed)
    out += "changed: " + want.str() + "  deployed as " + ir::ServicePort{have.proto, have.ports}.str() +
           (have.origin.empty() ? "" : "  (" + have.origin + ")") + "\n";
  return out;
}

}  // namespace netpol
