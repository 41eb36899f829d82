#pragma once
// Helpers for tests: compile policies held in memory or from the repository.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "file_reader.h"
#include "pipeline.h"

namespace netpol::testing {

// Compiles `files` (path -> text); the entry is "main.npol" unless given.
inline std::unique_ptr<Compilation> compile(std::map<std::string, std::string> files,
                                            const std::string& entry = "main.npol") {
  MemoryFileReader reader(std::move(files));
  return check_policy(entry, reader);
}

inline std::unique_ptr<Compilation> compile_text(const std::string& text) { return compile({{"main.npol", text}}); }

inline std::unique_ptr<Compilation> compile_repo_file(const std::string& relative) {
  DiskFileReader reader;
  return check_policy(std::string(NETPOL_SOURCE_DIR) + "/" + relative, reader);
}

// "E200@3:7" for each diagnostic, in source order.
inline std::vector<std::string> codes(const Compilation& c) {
  std::vector<std::string> out;
  for (const auto& d : c.diags.sorted()) {
    auto lc = d.span.valid() ? c.sources.file(d.span.file).position(d.span.begin) : LineCol{};
    out.push_back(d.code + "@" + std::to_string(lc.line) + ":" + std::to_string(lc.column));
  }
  return out;
}

inline std::string rendered(const Compilation& c) {
  std::string out;
  for (const auto& d : c.diags.sorted()) out += render(d, c.sources, false);
  return out;
}

}  // namespace netpol::testing
