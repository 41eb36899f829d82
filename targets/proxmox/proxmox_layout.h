#pragma once
// The canonical layout of a .fw file (formats.md 1.9, PVE's own writer): comment
// lines first (both parsers skip them; PVE's writer drops them on a GUI edit), then
// each section as its header, a blank line, its lines, and a blank line.
#include <string>
#include <vector>

namespace netpol::proxmox {

struct Section {
  std::string header;              // "[OPTIONS]", "[IPSET lan] # comment"
  std::vector<std::string> lines;
};

// `comments` become "# text" lines; each must already be a safe comment.
std::string render_fw(const std::vector<std::string>& comments, const std::vector<Section>& sections);

// "[IPSET lan]" or "[IPSET lan] # comment" (the same for [group ...]).
std::string header_with_comment(const std::string& header, const std::string& comment);

}  // namespace netpol::proxmox
