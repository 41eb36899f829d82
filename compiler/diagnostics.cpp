#include "diagnostics.h"

#include <algorithm>
#include <fmt/format.h>

namespace netpol {

Diagnostic& Diagnostics::error(std::string_view code, Span span, std::string message) {
  list_.push_back({Severity::error, std::string(code), span, std::move(message), {}, {}});
  return list_.back();
}

Diagnostic& Diagnostics::warning(std::string_view code, Span span, std::string message) {
  list_.push_back({Severity::warning, std::string(code), span, std::move(message), {}, {}});
  return list_.back();
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

int Diagnostics::error_count() const {
  return static_cast<int>(std::count_if(list_.begin(), list_.end(),
                                        [](const auto& d) { return d.severity == Severity::error; }));
}

int Diagnostics::warning_count() const { return static_cast<int>(list_.size()) - error_count(); }

std::vector<Diagnostic> Diagnostics::sorted(std::size_t first) const {
  std::vector<Diagnostic> out(list_.begin() + static_cast<std::ptrdiff_t>(std::min(first, list_.size())), list_.end());
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.span.file != b.span.file) return a.span.file < b.span.file;
    return a.span.begin < b.span.begin;
  });
  return out;
}

namespace {

struct Palette {
  const char* bold;
  const char* red;
  const char* yellow;
  const char* cyan;
  const char* green;
  const char* reset;
};

constexpr Palette kColor{"\x1b[1m", "\x1b[1;31m", "\x1b[1;33m", "\x1b[1;36m", "\x1b[1;32m", "\x1b[0m"};
constexpr Palette kPlain{"", "", "", "", "", ""};

// The source line and a caret under the span (the span is cut at the line end).
void render_excerpt(std::string& out, const Span& span, const SourceSet& sources, const Palette& p) {
  if (!span.valid()) return;
  const auto& file = sources.file(span.file);
  auto start = file.position(span.begin);
  auto line = file.line_text(start.line);
  std::string gutter = fmt::format("{:>5} | ", start.line);
  out += gutter;
  for (char c : line) out += (c == '\t') ? ' ' : c;  // keep columns aligned with the caret
  out += '\n';
  std::size_t col = static_cast<std::size_t>(start.column - 1);
  std::size_t width = 1;
  if (span.end > span.begin) width = std::min(span.end - span.begin, line.size() > col ? line.size() - col : 1);
  out += std::string(gutter.size() - 2, ' ') + "| " + std::string(col, ' ');
  out += p.green;
  out += '^';
  if (width > 1) out += std::string(width - 1, '~');
  out += p.reset;
  out += '\n';
}

}  // namespace

std::string render(const Diagnostic& d, const SourceSet& sources, bool color) {
  const Palette& p = color ? kColor : kPlain;
  bool is_error = d.severity == Severity::error;
  std::string out = fmt::format("{}{}:{} {}{}[{}]:{} {}{}{}\n", p.bold, sources.where(d.span), p.reset,
                                is_error ? p.red : p.yellow, is_error ? "error" : "warning", d.code,
                                p.reset, p.bold, d.message, p.reset);
  render_excerpt(out, d.span, sources, p);
  for (const auto& note : d.notes) {
    out += fmt::format("{}{}:{} {}note:{} {}\n", p.bold, sources.where(note.span), p.reset, p.cyan, p.reset,
                       note.message);
    render_excerpt(out, note.span, sources, p);
  }
  for (const auto& hint : d.hints) out += fmt::format("  {}= help:{} {}\n", p.cyan, p.reset, hint);
  return out;
}

namespace {
// Optimal string alignment distance: insertions, deletions, substitutions and
// swaps of two neighbours ("dzm" for "dmz") each cost one.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}
}  // namespace

std::string closest_name(std::string_view name, const std::vector<std::string>& candidates) {
  // Allow about one typo per three characters, at least one, at most three.
  std::size_t limit = std::clamp<std::size_t>(name.size() / 3, 1, 3);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(name, c);
    if (d < best_distance || (d == best_distance && c < best)) {
      best = c;
      best_distance = d;
    }
  }
  return best_distance <= limit ? best : std::string();
}

}  // namespace netpol
