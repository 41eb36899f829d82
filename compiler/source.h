#pragma once
// Source files and spans. Every element of the AST and the IR carries a Span,
// so any later stage (checks, targets, verifiers) can point back at policy text.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace netpol {

struct Span {
  int file = -1;            // index into SourceSet; -1 = no location
  std::size_t begin = 0;    // byte offset, inclusive
  std::size_t end = 0;      // byte offset, exclusive
  bool valid() const { return file >= 0; }
};

struct LineCol {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes
};

struct SourceFile {
  std::string display_path;   // as the user would open it (the entry path as typed, joined with includes)
  std::string relative_path;  // relative to the entry file's folder: what outputs name (no absolute paths)
  std::string text;
  std::vector<std::size_t> line_starts;  // byte offset of each line

  SourceFile(std::string display, std::string relative, std::string content);
  LineCol position(std::size_t offset) const;
  std::string_view line_text(int line) const;  // without the newline
};

class SourceSet {
 public:
  int add(std::string display_path, std::string relative_path, std::string content);
  const SourceFile& file(int id) const { return files_.at(static_cast<std::size_t>(id)); }
  int size() const { return static_cast<int>(files_.size()); }
  std::string_view text(const Span& span) const;
  // "path:line:col" of the span's start.
  std::string where(const Span& span) const;

 private:
  std::vector<SourceFile> files_;
};

}  // namespace netpol
