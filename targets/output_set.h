#pragma once
// What targets produce: file contents by relative path, kept in memory until
// every target has succeeded, then written at once (compiler/output_dir.h).
#include <map>
#include <string>

namespace netpol {

using OutputSet = std::map<std::string, std::string>;  // "proxmox/cluster.fw" -> bytes

}  // namespace netpol
