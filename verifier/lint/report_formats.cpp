#include "report_formats.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

#include "lint_codes.h"
#include "version.h"

namespace netpol {

namespace {

using nlohmann::json;

const char* severity_text(Severity s) { return s == Severity::error ? "error" : "warning"; }

// Byte positions of a span: start and (exclusive) end, 1-based.
struct Place {
  std::string file;
  LineCol start;
  LineCol end;
};

// The span's end without the line breaks and blanks a statement's span may end with.
std::size_t trimmed_end(const SourceFile& f, const Span& span) {
  std::size_t end = std::min(span.end, f.text.size());
  while (end > span.begin + 1 && std::isspace(static_cast<unsigned char>(f.text[end - 1]))) --end;
  return end;
}

Place place(const SourceSet& sources, const Span& span) {
  const auto& f = sources.file(span.file);
  auto start = f.position(span.begin);
  auto end = span.end > span.begin ? f.position(trimmed_end(f, span)) : LineCol{start.line, start.column + 1};
  return {f.display_path, start, end};
}

void add_place(json& j, const SourceSet& sources, const Span& span) {
  if (!span.valid()) return;
  auto p = place(sources, span);
  j["file"] = p.file;
  j["line"] = p.start.line;
  j["column"] = p.start.column;
  j["end_line"] = p.end.line;
  j["end_column"] = p.end.column;
}

// UTF-16 code units in the first `bytes` bytes of a UTF-8 line.
int utf16_units(std::string_view line, std::size_t bytes) {
  int units = 0;
  for (std::size_t i = 0; i < std::min(bytes, line.size()); ++i) {
    auto c = static_cast<unsigned char>(line[i]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte
    units += c >= 0xF0 ? 2 : 1;        // four-byte sequences are surrogate pairs
  }
  return units;
}

// A relative path as a URI reference, an absolute one as a file: URI; unsafe bytes percent-encoded.
std::string path_uri(const std::string& path) {
  static const std::string kSafe =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/!$&'()*+,;=@";
  std::string out = path.starts_with("/") ? "file://" : "";
  for (char ch : path) {
    if (kSafe.find(ch) != std::string::npos) {
      out += ch;
    } else {
      static const char* kHex = "0123456789ABCDEF";
      auto c = static_cast<unsigned char>(ch);
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

json physical_location(const SourceSet& sources, const Span& span) {
  const auto& f = sources.file(span.file);
  auto start = f.position(span.begin);
  auto line = f.line_text(start.line);
  auto start_byte = static_cast<std::size_t>(start.column - 1);
  std::size_t end_byte = line.size();  // cut at the line's end, as the text output
  if (span.end > span.begin) {
    auto end = f.position(trimmed_end(f, span));
    if (end.line == start.line) end_byte = static_cast<std::size_t>(end.column - 1);
  } else {
    end_byte = std::min(line.size(), start_byte + 1);
  }
  int start_column = utf16_units(line, start_byte) + 1;
  int end_column = std::max(start_column, utf16_units(line, end_byte) + 1);
  return {{"artifactLocation", {{"uri", path_uri(f.display_path)}}},
          {"region", {{"startLine", start.line}, {"startColumn", start_column}, {"endColumn", end_column}}}};
}

std::string summary(const std::string& code) {
  for (const auto& info : lint::code::kAll)
    if (info.code == code) return std::string(info.summary);
  return "netpolc diagnostic " + code;
}

}  // namespace

std::string diagnostics_json(const Compilation& c) {
  json list = json::array();
  for (const auto& d : c.diags.sorted()) {
    json j{{"code", d.code}, {"severity", severity_text(d.severity)}, {"message", d.message}};
    add_place(j, c.sources, d.span);
    json notes = json::array();
    for (const auto& n : d.notes) {
      json note{{"message", n.message}};
      add_place(note, c.sources, n.span);
      notes.push_back(std::move(note));
    }
    j["notes"] = std::move(notes);
    j["hints"] = d.hints;
    list.push_back(std::move(j));
  }
  json out{{"tool", "netpolc"},
           {"version", kToolVersion},
           {"ok", !c.diags.has_errors()},
           {"errors", c.diags.error_count()},
           {"warnings", c.diags.warning_count()},
           {"diagnostics", std::move(list)}};
  return out.dump(2) + "\n";
}

std::string diagnostics_sarif(const Compilation& c) {
  auto sorted = c.diags.sorted();
  std::map<std::string, Severity> used;  // code -> its severity (a code has one)
  for (const auto& d : sorted) used.emplace(d.code, d.severity);
  json rules = json::array();
  std::map<std::string, int> index;
  for (const auto& [code, severity] : used) {
    index[code] = static_cast<int>(rules.size());
    std::string anchor = code;
    std::transform(anchor.begin(), anchor.end(), anchor.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    rules.push_back({{"id", code},
                     {"shortDescription", {{"text", summary(code)}}},
                     {"help", {{"text", "See docs/diagnostics.md#" + anchor + " in the netpol sources."}}},
                     {"defaultConfiguration", {{"level", severity_text(severity)}}}});
  }
  json results = json::array();
  for (const auto& d : sorted) {
    std::string text = d.message;
    for (const auto& h : d.hints) text += "\nhelp: " + h;
    json r{{"ruleId", d.code},
           {"ruleIndex", index[d.code]},
           {"level", severity_text(d.severity)},
           {"message", {{"text", text}}}};
    if (d.span.valid()) r["locations"] = json::array({{{"physicalLocation", physical_location(c.sources, d.span)}}});
    json related = json::array();
    for (const auto& n : d.notes) {
      if (!n.span.valid()) continue;
      related.push_back({{"id", static_cast<int>(related.size())},
                         {"physicalLocation", physical_location(c.sources, n.span)},
                         {"message", {{"text", n.message}}}});
    }
    if (!related.empty()) r["relatedLocations"] = std::move(related);
    results.push_back(std::move(r));
  }
  json run{{"tool", {{"driver", {{"name", "netpolc"}, {"version", kToolVersion}, {"rules", std::move(rules)}}}}},
           {"columnKind", "utf16CodeUnits"},
           {"results", std::move(results)}};
  json log{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"}, {"version", "2.1.0"}, {"runs", json::array({run})}};
  return log.dump(2) + "\n";
}

}  // namespace netpol
