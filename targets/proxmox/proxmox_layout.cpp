#include "proxmox_layout.h"

namespace netpol::proxmox {

std::string render_fw(const std::vector<std::string>& comments, const std::vector<Section>& sections) {
  std::string out;
  for (const auto& c : comments) out += "# " + c + "\n";
  if (!comments.empty()) out += "\n";
  for (const auto& s : sections) {
    out += s.header + "\n\n";
    for (const auto& line : s.lines) out += line + "\n";
    out += "\n";
  }
  return out;
}

std::string header_with_comment(const std::string& header, const std::string& comment) {
  if (comment.empty()) return "[" + header + "]";
  return "[" + header + "] # " + comment;
}

}  // namespace netpol::proxmox
