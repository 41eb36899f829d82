#pragma once
// Diagnostics are data: a code, a severity, a span, a message, hints and notes.
// Stages only collect them; rendering (source line, caret, colour) happens once.
#include <string>
#include <string_view>
#include <vector>

#include "source.h"

namespace netpol {

enum class Severity { error, warning };

struct DiagnosticNote {
  Span span;
  std::string message;
};

struct Diagnostic {
  Severity severity = Severity::error;
  std::string code;
  Span span;
  std::string message;
  std::vector<std::string> hints;       // "did you mean ...", how to fix
  std::vector<DiagnosticNote> notes;    // related places (the first definition, the invariant)
};

class Diagnostics {
 public:
  Diagnostic& error(std::string_view code, Span span, std::string message);
  Diagnostic& warning(std::string_view code, Span span, std::string message);
  bool has_errors() const;
  int error_count() const;
  int warning_count() const;
  // Sorted by file, then position; the order is stable for equal positions.
  // `first`: only those added from that index on (a later stage's).
  std::vector<Diagnostic> sorted(std::size_t first = 0) const;
  const std::vector<Diagnostic>& all() const { return list_; }

 private:
  std::vector<Diagnostic> list_;
};

// "file:line:col: error[E200]: message", the source line, a caret and ~~~ under
// the span, then notes and hints.
std::string render(const Diagnostic& d, const SourceSet& sources, bool color);

// The closest candidate within a small edit distance, or "" when none is close.
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace netpol
