#pragma once
// Golden files for the NPM and nginx target tests: tests/golden/<target>/<policy>/.
// Regenerate all of them with:  NETPOL_UPDATE_GOLDEN=1 ctest -R 'netpol_(npm|nginx)_tests|golden'
// (or run the test executables with that variable set), then review the diff.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace netpol::testing {

inline bool updating_goldens() {
  const char* v = std::getenv("NETPOL_UPDATE_GOLDEN");
  return v && std::string(v) == "1";
}

// Compares `files` (file name -> bytes) with the folder's files, both ways. With
// NETPOL_UPDATE_GOLDEN=1 the folder is rewritten to match first. Returns the differences.
inline std::vector<std::string> golden_differences(const std::filesystem::path& folder,
                                                   const std::map<std::string, std::string>& files) {
  namespace fs = std::filesystem;
  std::vector<std::string> diffs;
  if (updating_goldens()) {
    fs::create_directories(folder);
    for (const auto& entry : fs::directory_iterator(folder))
      if (!files.count(entry.path().filename().string())) fs::remove(entry.path());
    for (const auto& [name, bytes] : files) std::ofstream(folder / name, std::ios::binary) << bytes;
  }
  std::map<std::string, std::string> on_disk;
  if (fs::is_directory(folder)) {
    for (const auto& entry : fs::directory_iterator(folder)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream s;
      s << in.rdbuf();
      on_disk[entry.path().filename().string()] = s.str();
    }
  }
  for (const auto& [name, bytes] : files) {
    auto it = on_disk.find(name);
    if (it == on_disk.end())
      diffs.push_back(name + ": not in " + folder.string());
    else if (it->second != bytes)
      diffs.push_back(name + ": differs from " + (folder / name).string() + "\n--- expected\n" + it->second +
                      "\n--- got\n" + bytes);
  }
  for (const auto& [name, bytes] : on_disk)
    if (!files.count(name)) diffs.push_back(name + ": in " + folder.string() + " but no longer produced");
  return diffs;
}

}  // namespace netpol::testing
