#include "manifest.h"

#include <nlohmann/json.hpp>

#include "sha256.h"
#include "version.h"

namespace netpol {

std::string policy_hash(const std::vector<std::pair<std::string, std::string>>& path_and_bytes) {
  std::string all;
  for (const auto& [path, bytes] : path_and_bytes) {
    all += path;
    all += '\0';
    all += bytes;
    all += '\0';
  }
  return sha256_hex(all);
}

std::string manifest_json(const ir::Policy& policy, const OutputSet& files) {
  using json = nlohmann::ordered_json;
  json doc;
  doc["tool"] = "netpolc";
  doc["version"] = kToolVersion;
  doc["policy"] = policy.entry;
  doc["policy_sha256"] = policy.policy_sha256;
  json sources = json::array();
  for (const auto& s : policy.sources) sources.push_back({{"path", s.path}, {"sha256", s.sha256}});
  doc["sources"] = sources;
  json list = json::array();
  for (const auto& [path, content] : files)  // std::map: sorted by path
    list.push_back({{"path", path}, {"sha256", sha256_hex(content)}, {"bytes", content.size()}});
  doc["files"] = list;
  return doc.dump(2) + "\n";
}

}  // namespace netpol
