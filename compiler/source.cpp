#include "source.h"

#include <algorithm>

namespace netpol {

SourceFile::SourceFile(std::string display, std::string relative, std::string content)
    : display_path(std::move(display)), relative_path(std::move(relative)), text(std::move(content)) {
  line_starts.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') line_starts.push_back(i + 1);
}

LineCol SourceFile::position(std::size_t offset) const {
  auto it = std::upper_bound(line_starts.begin(), line_starts.end(), offset);
  auto line = static_cast<int>(it - line_starts.begin());
  return {line, static_cast<int>(offset - line_starts[static_cast<std::size_t>(line - 1)]) + 1};
}

std::string_view SourceFile::line_text(int line) const {
  if (line < 1 || line > static_cast<int>(line_starts.size())) return {};
  std::size_t begin = line_starts[static_cast<std::size_t>(line - 1)];
  std::size_t end = text.find('\n', begin);
  if (end == std::string::npos) end = text.size();
  if (end > begin && text[end - 1] == '\r') --end;
  return std::string_view(text).substr(begin, end - begin);
}

int SourceSet::add(std::string display_path, std::string relative_path, std::string content) {
  files_.emplace_back(std::move(display_path), std::move(relative_path), std::move(content));
  return static_cast<int>(files_.size()) - 1;
}

std::string_view SourceSet::text(const Span& span) const {
  if (!span.valid()) return {};
  const auto& f = file(span.file);
  return std::string_view(f.text).substr(span.begin, span.end - span.begin);
}

std::string SourceSet::where(const Span& span) const {
  if (!span.valid()) return "<netpol>";
  const auto& f = file(span.file);
  auto lc = f.position(span.begin);
  return f.display_path + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.column);
}

}  // namespace netpol
