#pragma once
// netpolc diff: the semantic difference of two policies. Flows are compared as port sets per
// (source atom, destination atom, protocol) of the resolved matrices, so rule text, rule order and
// how rows are split do not matter; exposure is compared as what each source reaches in the
// exposure graph, with the path in the policy that has it. See docs/audit.md.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "exposure.h"

namespace netpol::audit {

struct FlowChange {
  AtomKey source;
  AtomKey destination;
  ir::ServicePort port;             // one merged range
  std::vector<std::string> rules;   // "flows.npol:47": the rules deciding it, in the policy that has it
  std::string text;                 // the first of those rules' statements
};

struct ExposureChange {
  AtomKey source;
  std::string target;               // "vm-intranet:tcp/5432", "vpn", "vm-extranet:tcp/443 [jellyfin.home.arpa]"
  std::string kind;                 // service, zone, host, published
  std::string path;                 // path_text in the policy that has it
  nlohmann::ordered_json path_json;
};

struct PolicyDiff {
  std::vector<FlowChange> added, removed;
  std::vector<ExposureChange> gained, lost;
  bool empty() const { return added.empty() && removed.empty() && gained.empty() && lost.empty(); }
};

PolicyDiff diff_policies(const ir::Policy& old_policy, const ir::Policy& new_policy);

std::string diff_markdown(const PolicyDiff& d, const std::string& old_name, const std::string& new_name);
nlohmann::ordered_json diff_json(const PolicyDiff& d, const ir::Policy& old_policy, const std::string& old_name,
                                 const ir::Policy& new_policy, const std::string& new_name);

}  // namespace netpol::audit
