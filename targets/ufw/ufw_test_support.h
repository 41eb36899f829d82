#pragma once
// Shared by the UFW target's tests: compiling a policy and running only this target,
// golden files under tests/golden/ufw/<case>/ (NETPOL_UPDATE_GOLDEN=1 rewrites them).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "test_support.h"
#include "ufw_target.h"

namespace netpol::ufw::testing {

inline std::filesystem::path source_dir() { return NETPOL_SOURCE_DIR; }
inline std::filesystem::path golden_root() { return source_dir() / "tests/golden/ufw"; }

inline bool updating_goldens() {
  const char* v = std::getenv("NETPOL_UPDATE_GOLDEN");
  return v && std::string(v) == "1";
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// A checked policy plus only the UFW target's files, keyed "vm-intranet.rules" (no "ufw/").
struct UfwOutput {
  std::unique_ptr<Compilation> compilation;
  std::map<std::string, std::string> files;
  std::string diagnostics;  // rendered, without colour
};

inline UfwOutput emit_for(std::unique_ptr<Compilation> c) {
  UfwOutput out;
  if (c->ok()) {
    OutputSet set;
    emit_ufw(c->policy, set, c->diags);
    for (auto& [path, text] : set)
      if (path.rfind("ufw/", 0) == 0) out.files[path.substr(4)] = text;
  }
  // Paths relative to the repository, so goldens do not depend on where it is checked out.
  out.diagnostics = netpol::testing::rendered(*c);
  const std::string root = source_dir().string() + "/";
  for (auto at = out.diagnostics.find(root); at != std::string::npos; at = out.diagnostics.find(root, at))
    out.diagnostics.erase(at, root.size());
  out.compilation = std::move(c);
  return out;
}

inline UfwOutput emit_repo_policy(const std::string& relative) {
  return emit_for(netpol::testing::compile_repo_file(relative));
}

inline UfwOutput emit_text(const std::string& text) { return emit_for(netpol::testing::compile_text(text)); }

}  // namespace netpol::ufw::testing
