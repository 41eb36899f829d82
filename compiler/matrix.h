#pragma once
// The resolved matrix: rules applied in policy order, first match wins, default
// deny. Zones are split into "atoms" (each host, and the rest of the zone) only
// where that changes a verdict, so a rule that applies whole stays one row.
#include <map>
#include <tuple>
#include <vector>

#include "ir.h"

namespace netpol {

class Matrix {
 public:
  explicit Matrix(const ir::Policy& policy);

  // The rows of the matrix: every allowed flow with the rule that decides it.
  const std::vector<ir::Flow>& flows() const { return flows_; }

  // The allowed parts of (source -> destination : port), split by atom and rule.
  std::vector<ir::Flow> allowed(const ir::Endpoint& source, const ir::Endpoint& destination,
                                const ir::ServicePort& port) const;

  // The rule deciding one concrete atom pair and port: a rule index, or -1 for the default deny.
  struct Verdict {
    bool allowed = false;
    int rule = -1;
  };
  Verdict decide(const ir::Endpoint& source, const ir::Endpoint& destination, ir::Proto proto,
                 std::uint16_t port) const;

 private:
  struct Piece {
    ir::PortRange range;
    int rule;
    bool allow;
  };
  using Key = std::tuple<int, int, ir::Proto>;  // source atom, destination atom, protocol

  std::vector<int> atoms(const ir::Endpoint& e) const;
  ir::FlowEnd atom_end(int atom) const;
  int atom_of(const ir::Endpoint& e) const;  // a host's atom, or a zone's "rest" atom
  // Marks the parts of `range` not yet decided as decided by `rule`; returns those parts.
  std::vector<ir::PortRange> decide_range(const Key& key, ir::PortRange range, int rule, bool allow);

  const ir::Policy& policy_;
  std::vector<std::vector<int>> zone_hosts_;
  std::map<Key, std::vector<Piece>> decided_;
  std::vector<ir::Flow> flows_;
};

}  // namespace netpol
