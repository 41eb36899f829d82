#pragma once
// Helpers for the Proxmox target's tests: compile a policy, run only this target,
// and read or write a directory of .fw files.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "proxmox_target.h"
#include "test_support.h"

namespace netpol::proxmox::testing {

using Files = std::map<std::string, std::string>;  // "cluster.fw" -> text

inline std::string source_path(const std::string& relative) { return std::string(NETPOL_SOURCE_DIR) + "/" + relative; }

// The Proxmox files of a checked policy, without the "proxmox/" prefix. Diagnostics
// go to the compilation, so netpol::testing::codes() shows them.
inline Files emit(Compilation& c) {
  OutputSet out;
  emit_proxmox(c.policy, out, c.diags);
  Files files;
  for (const auto& [path, text] : out) {
    REQUIRE(path.rfind("proxmox/", 0) == 0);
    files[path.substr(8)] = text;
  }
  return files;
}

inline std::unique_ptr<Compilation> checked(std::unique_ptr<Compilation> c) {
  INFO(netpol::testing::rendered(*c));
  REQUIRE(c->ok());
  return c;
}

inline Files emit_text(const std::string& policy) {
  auto c = checked(netpol::testing::compile_text(policy));
  auto files = emit(*c);
  INFO(netpol::testing::rendered(*c));
  REQUIRE(!c->diags.has_errors());
  return files;
}

inline Files read_dir(const std::string& dir) {
  Files files;
  if (!std::filesystem::exists(dir)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    files[entry.path().filename().string()] = text.str();
  }
  return files;
}

// Replaces the directory's files with `files`.
inline void write_dir(const std::string& dir, const Files& files) {
  std::filesystem::create_directories(dir);
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file()) std::filesystem::remove(entry.path());
  for (const auto& [name, text] : files) std::ofstream(dir + "/" + name, std::ios::binary) << text;
}

// `text` with the first line containing `needle` replaced (or removed when `with` is empty).
inline std::string replace_line(const std::string& text, const std::string& needle, const std::string& with) {
  auto at = text.find(needle);
  REQUIRE(at != std::string::npos);
  auto begin = text.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  auto end = text.find('\n', at);
  return text.substr(0, begin) + with + (with.empty() ? "" : "\n") + text.substr(end + 1);
}

}  // namespace netpol::proxmox::testing
