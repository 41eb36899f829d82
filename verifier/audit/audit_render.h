#pragma once
// The exposure graph for people and tools: text, JSON (docs/audit.md), Markdown and Graphviz dot.
#include <nlohmann/json.hpp>
#include <string>

#include "exposure.h"

namespace netpol::audit {

std::string audit_text(const ir::Policy& policy, const Exposure& e);
nlohmann::ordered_json audit_json(const ir::Policy& policy, const Exposure& e);
std::string audit_markdown(const ir::Policy& policy, const Exposure& e);
std::string audit_dot(const ir::Policy& policy, const Exposure& e);

// One vertex and one path step as JSON; shared with `netpolc diff`.
// A Markdown table cell: "|" escaped.
std::string md_cell(const std::string& s);
nlohmann::ordered_json vertex_json(const Vertex& v);
nlohmann::ordered_json path_json(const Exposure& e, const std::vector<Step>& path);

}  // namespace netpol::audit
