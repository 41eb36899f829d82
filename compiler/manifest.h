#pragma once
// out/manifest.json: what produced the output (tool, version, policy hash, the
// source files) and the sha256 of every file beside it.
#include <string>

#include "ir.h"
#include "output_set.h"

namespace netpol {

std::string manifest_json(const ir::Policy& policy, const OutputSet& files);

// sha256 over every source file in reading order: "path\0bytes\0" for each.
std::string policy_hash(const std::vector<std::pair<std::string, std::string>>& path_and_bytes);

}  // namespace netpol
