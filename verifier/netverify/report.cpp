// The four reports of a run. Each sorts the cells first (they arrive in the order the probes
// finished) and escapes every name for its own format: names come from a policy file and may hold
// quotes, markup, control characters or bytes that are not UTF-8.
#include "report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

namespace netpol::live {
namespace {

// ---- Text hygiene -------------------------------------------------------------------------------

constexpr std::uint32_t replacement_character = 0xFFFD;

// Calls emit(code point) for each code point of `s`; a byte that does not start a valid UTF-8
// sequence (overlong, surrogate, truncated, stray continuation) becomes one U+FFFD.
template <class Emit>
void for_each_code_point(std::string_view s, Emit&& emit) {
  static constexpr std::uint32_t smallest_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    std::uint32_t cp = length == 1 ? lead : length == 2 ? (lead & 0x1Fu) : length == 3 ? (lead & 0x0Fu) : (lead & 0x07u);
    bool valid = length != 0 && i + length <= s.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      valid = (next & 0xC0) == 0x80;
      cp = (cp << 6) | (next & 0x3Fu);
    }
    valid = valid && cp >= smallest_for_length[length] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    if (!valid) {
      emit(replacement_character);
      ++i;
      continue;
    }
    emit(cp);
    i += length;
  }
}

void append_utf8(std::string& out, std::uint32_t cp) {
  const auto byte = [&out](std::uint32_t b) { out += static_cast<char>(static_cast<unsigned char>(b)); };
  if (cp < 0x80) {
    byte(cp);
  } else if (cp < 0x800) {
    byte(0xC0 | (cp >> 6));
    byte(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    byte(0xE0 | (cp >> 12));
    byte(0x80 | ((cp >> 6) & 0x3F));
    byte(0x80 | (cp & 0x3F));
  } else {
    byte(0xF0 | (cp >> 18));
    byte(0x80 | ((cp >> 12) & 0x3F));
    byte(0x80 | ((cp >> 6) & 0x3F));
    byte(0x80 | (cp & 0x3F));
  }
}

// For a terminal: no control character (C0, DEL, C1) may reach it, so a name cannot move the
// cursor or change colours.
std::string printable(std::string_view s) {
  std::string out;
  for_each_code_point(s, [&out](std::uint32_t cp) {
    const bool control = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
    append_utf8(out, control ? '?' : cp);
  });
  return out;
}

// Columns a printable string takes: one per code point (wide CJK glyphs are not worth a table).
std::size_t display_width(std::string_view s) {
  std::size_t width = 0;
  for_each_code_point(s, [&width](std::uint32_t) { ++width; });
  return width;
}

// For XML text and attribute values alike. Characters XML 1.0 cannot carry at all become U+FFFD;
// tab and line ends are written as references so attribute normalisation keeps them.
std::string xml_escape(std::string_view s) {
  std::string out;
  for_each_code_point(s, [&out](std::uint32_t cp) {
    switch (cp) {
      case '&': out += "&amp;"; return;
      case '<': out += "&lt;"; return;
      case '>': out += "&gt;"; return;
      case '"': out += "&quot;"; return;
      case '\'': out += "&apos;"; return;
      case '\t': out += "&#9;"; return;
      case '\n': out += "&#10;"; return;
      case '\r': out += "&#13;"; return;
      default: break;
    }
    const bool forbidden = cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF;
    append_utf8(out, forbidden ? replacement_character : cp);
  });
  return out;
}

// A label value of the exposition format: UTF-8 with \\, \" and \n escaped.
std::string label_escape(std::string_view s) {
  std::string out;
  for_each_code_point(s, [&out](std::uint32_t cp) {
    if (cp == '\\') out += "\\\\";
    else if (cp == '"') out += "\\\"";
    else if (cp == '\n') out += "\\n";
    else append_utf8(out, cp);
  });
  return out;
}

// ---- Facts shared by every report ---------------------------------------------------------------

// Every field takes part, so equal-looking cells still sort the same whatever order they came in.
auto sort_key(const Cell& c) {
  return std::tie(c.layer, c.source, c.destination, c.via, c.port, c.proto, c.source_address,
                  c.destination_address, c.expected_allowed, c.rule, c.observed, c.evidence);
}

std::vector<Cell> sorted(std::vector<Cell> cells) {
  std::sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) { return sort_key(a) < sort_key(b); });
  return cells;
}

struct Summary {
  std::size_t cells = 0, proven = 0, violations = 0, inconclusive = 0;
};

Summary summarise(const std::vector<Cell>& cells) {
  Summary s;
  s.cells = cells.size();
  for (const auto& c : cells) {
    if (is_proven(c)) ++s.proven;
    if (is_violation(c)) ++s.violations;
    if (!is_proven(c) && !is_violation(c)) ++s.inconclusive;
  }
  return s;
}

double rate_of(const RunFacts& facts) {
  return facts.seconds > 0 ? static_cast<double>(facts.probes) / facts.seconds : 0.0;
}

std::string port_label(const Cell& c) { return fmt::format("{}/{}", c.port, to_string(c.proto)); }
std::string expectation(const Cell& c) { return c.expected_allowed ? "allowed" : "forbidden"; }
std::string flow_name(const Cell& c) { return fmt::format("{} -> {}:{}", c.source, c.destination, port_label(c)); }
std::string via_or_direct(const Cell& c) { return c.via.empty() ? "direct" : c.via; }

// ---- Text ---------------------------------------------------------------------------------------

// Wider tables wrap into several blocks of columns, so a terminal never folds a row.
constexpr std::size_t ports_per_block = 12;
constexpr std::size_t table_width = 120;

struct Palette {
  bool on = false;
  std::string paint(std::string_view code, std::string_view text) const {
    return on ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : std::string(text);
  }
  std::string red(std::string_view t) const { return paint("1;31", t); }
  std::string green(std::string_view t) const { return paint("32", t); }
  std::string yellow(std::string_view t) const { return paint("33", t); }
};

// Worse outcomes win when two cells share a slot of the matrix.
int severity(const Cell& c) { return is_violation(c) ? 3 : is_proven(c) ? 1 : 2; }

std::string symbol(const Cell& c) {
  if (is_violation(c)) return "!!";
  if (!is_proven(c)) return "??";
  if (!c.expected_allowed) return "--";
  return c.observed == Verdict::nothing_listening ? "nl" : "ok";
}

std::string painted_symbol(const Cell& c, const Palette& p) {
  const int s = severity(c);
  return s == 3 ? p.red(symbol(c)) : s == 2 ? p.yellow(symbol(c)) : p.green(symbol(c));
}

std::string pad(std::string_view printable_text, std::size_t width) {
  const std::size_t w = display_width(printable_text);
  return std::string(printable_text) + std::string(w < width ? width - w : 0, ' ');
}

std::string detail_line(const Cell& c) {
  return printable(fmt::format("{}: expected {}, observed {}; evidence: {}; rule: {}; layer: {}; via: {}; addresses {} -> {}",
                               flow_name(c), expectation(c), to_string(c.observed), c.evidence.empty() ? "none" : c.evidence,
                               c.rule, c.layer, via_or_direct(c), c.source_address, c.destination_address));
}

using PortKey = std::pair<std::uint16_t, L4>;

struct MatrixRow {
  std::string label;                     // printable
  std::map<PortKey, const Cell*> slots;  // the worst cell of each port
};

// One table: the cells of one layer and one source, already sorted by destination, via, port.
void render_table(std::string& out, const std::vector<const Cell*>& group, const Palette& palette) {
  std::set<PortKey> ports;
  std::set<std::string> source_addresses;
  std::vector<MatrixRow> rows;
  for (const Cell* c : group) {
    ports.insert({c->port, c->proto});
    if (!c->source_address.empty()) source_addresses.insert(c->source_address);
    std::string label = printable(c->via.empty() ? c->destination : c->destination + " via " + c->via);
    if (rows.empty() || rows.back().label != label) rows.push_back({std::move(label), {}});
    auto& slot = rows.back().slots[{c->port, c->proto}];
    if (slot == nullptr || severity(*c) > severity(*slot)) slot = c;
  }
  const Cell& first = *group.front();
  std::string from = printable(first.source);
  if (!source_addresses.empty()) from += printable(fmt::format(" ({})", fmt::join(source_addresses, ", ")));
  out += fmt::format("layer {}, from {}\n", printable(first.layer), from);

  std::size_t label_width = 0;
  for (const auto& r : rows) label_width = std::max(label_width, display_width(r.label));
  const std::vector<PortKey> columns(ports.begin(), ports.end());
  const auto header_of = [](const PortKey& k) { return fmt::format("{}/{}", k.first, to_string(k.second)); };
  for (std::size_t start = 0, end = 0; start < columns.size(); start = end) {
    std::vector<std::string> headers;
    std::string header_line = "  " + pad("", label_width);
    for (end = start; end < columns.size() && end - start < ports_per_block; ++end) {
      std::string header = header_of(columns[end]);
      if (end > start && header_line.size() + 2 + header.size() > table_width) break;
      header_line += "  " + header;
      headers.push_back(std::move(header));
    }
    out += header_line + "\n";
    for (const auto& r : rows) {
      std::string line = "  " + pad(r.label, label_width);
      for (std::size_t i = start; i < end; ++i) {
        const auto found = r.slots.find(columns[i]);
        const std::size_t width = std::max<std::size_t>(headers[i - start].size(), 2);
        const std::string cell = found == r.slots.end() ? "." : symbol(*found->second);
        const std::string shown = found == r.slots.end() ? "." : painted_symbol(*found->second, palette);
        line += "  " + shown + std::string(width - cell.size(), ' ');
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
    out += "\n";
  }
}

// ---- Metrics ------------------------------------------------------------------------------------

// "2024-05-01T12:00:00Z" (fraction and "+00:00" accepted) as seconds since the epoch.
std::optional<double> epoch_seconds(const std::string& utc) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0;
  double second = 0;
  char zone[8] = {};
  const int fields = std::sscanf(utc.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%7s", &year, &month, &day, &hour, &minute, &second, zone);
  if (fields < 6) return std::nullopt;
  const std::string_view z(zone);
  if (!(z.empty() || z == "Z" || z == "+00:00")) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second >= 61) return std::nullopt;
  const auto days = std::chrono::sys_days{date}.time_since_epoch().count();
  return static_cast<double>(days) * 86400.0 + hour * 3600.0 + minute * 60.0 + second;
}

void metric_header(std::string& out, std::string_view name, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
}

}  // namespace

std::string render_text(const std::vector<Cell>& unsorted, const RunFacts& facts, bool colour) {
  const auto cells = sorted(unsorted);
  const Summary s = summarise(cells);
  const Palette palette{colour};
  std::string out;
  out += printable(fmt::format("netverify ({}): policy {}, sha256 {}, started {}", facts.mode, facts.policy,
                               facts.policy_sha256.substr(0, 12), facts.started_utc)) + "\n";
  const std::string counts = fmt::format("{} cells: {} proven, {} violations, {} inconclusive", s.cells, s.proven, s.violations, s.inconclusive);
  out += fmt::format("{}; {} probes in {:.2f} s ({:.0f}/s)\n\n",
                     s.violations > 0 ? palette.red(counts) : s.inconclusive > 0 ? palette.yellow(counts) : palette.green(counts),
                     facts.probes, facts.seconds, rate_of(facts));

  if (s.violations > 0) {
    out += palette.red(fmt::format("VIOLATIONS ({})", s.violations)) + "\n";
    for (const auto& c : cells)
      if (is_violation(c)) out += "  " + palette.red("!!") + " " + detail_line(c) + "\n";
    out += "\n";
  }
  if (s.inconclusive > 0) {
    out += palette.yellow(fmt::format("INCONCLUSIVE ({})", s.inconclusive)) + "\n";
    for (const auto& c : cells)
      if (severity(c) == 2) out += "  " + palette.yellow("??") + " " + detail_line(c) + "\n";
    out += "\n";
  }

  out += "MATRIX  ok allowed, delivered   nl allowed, passed, nothing listening   -- forbidden, blocked\n"
         "        !! violation   ?? inconclusive   . not probed\n\n";
  std::vector<const Cell*> group;
  for (std::size_t i = 0; i <= cells.size(); ++i) {
    const bool same = i < cells.size() && !group.empty() && cells[i].layer == group.front()->layer &&
                      cells[i].source == group.front()->source;
    if (!group.empty() && !same) {
      render_table(out, group, palette);
      group.clear();
    }
    if (i < cells.size()) group.push_back(&cells[i]);
  }
  return out;
}

std::string render_json(const std::vector<Cell>& unsorted, const RunFacts& facts) {
  using Json = nlohmann::ordered_json;
  const auto cells = sorted(unsorted);
  const Summary s = summarise(cells);
  Json out;
  out["policy"] = facts.policy;
  out["policy_sha256"] = facts.policy_sha256;
  out["mode"] = facts.mode;
  out["started_utc"] = facts.started_utc;
  out["probes"] = facts.probes;
  out["seconds"] = facts.seconds;
  out["rate"] = rate_of(facts);
  out["summary"] = {{"cells", s.cells}, {"proven", s.proven}, {"violations", s.violations}, {"inconclusive", s.inconclusive}};
  out["exit_code"] = exit_code_for(cells);
  Json list = Json::array();
  for (const auto& c : cells) {
    list.push_back({{"source", c.source},
                    {"source_address", c.source_address},
                    {"destination", c.destination},
                    {"destination_address", c.destination_address},
                    {"proto", to_string(c.proto)},
                    {"port", c.port},
                    {"layer", c.layer},
                    {"via", c.via},
                    {"expected_allowed", c.expected_allowed},
                    {"rule", c.rule},
                    {"observed", to_string(c.observed)},
                    {"evidence", c.evidence},
                    {"proven", is_proven(c)},
                    {"violation", is_violation(c)}});
  }
  out["cells"] = std::move(list);
  // Invalid UTF-8 in a name is replaced rather than thrown: a report must always come out.
  return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string render_junit(const std::vector<Cell>& unsorted, const RunFacts& facts) {
  const auto cells = sorted(unsorted);
  const Summary all = summarise(cells);
  std::map<std::string, std::vector<const Cell*>> layers;
  for (const auto& c : cells) layers[c.layer].push_back(&c);

  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"netverify\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\">\n",
                     all.cells, all.violations, all.inconclusive, facts.seconds);
  for (const auto& [layer, members] : layers) {
    std::vector<Cell> copies;
    for (const Cell* c : members) copies.push_back(*c);
    const Summary s = summarise(copies);
    out += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">\n",
                       xml_escape("netverify: " + layer), s.cells, s.violations, s.inconclusive);
    out += "    <properties>\n";
    const std::pair<const char*, std::string> properties[] = {
        {"layer", layer}, {"policy", facts.policy}, {"policy_sha256", facts.policy_sha256},
        {"mode", facts.mode}, {"started_utc", facts.started_utc}, {"probes", std::to_string(facts.probes)}};
    for (const auto& [name, value] : properties)
      out += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", name, xml_escape(value));
    out += "    </properties>\n";
    for (const Cell* c : members) {
      const std::string name = flow_name(*c) + (c->via.empty() ? "" : " [" + c->via + "]");
      const std::string details = fmt::format("expected {}, observed {}\nevidence: {}\nrule: {}\naddresses: {} -> {}",
                                              expectation(*c), to_string(c->observed), c->evidence, c->rule,
                                              c->source_address, c->destination_address);
      out += fmt::format("    <testcase classname=\"{}\" name=\"{}\">\n", xml_escape(c->source), xml_escape(name));
      if (is_violation(*c))
        out += fmt::format("      <failure type=\"violation\" message=\"{}\">{}</failure>\n",
                           xml_escape(fmt::format("expected {}, observed {}", expectation(*c), to_string(c->observed))),
                           xml_escape(details));
      else if (!is_proven(*c))
        out += fmt::format("      <skipped message=\"{}\"/>\n", xml_escape("inconclusive: " + c->evidence));
      out += fmt::format("      <system-out>{}</system-out>\n", xml_escape(details));
      out += "    </testcase>\n";
    }
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

// Meant for node_exporter's textfile collector (--collector.textfile.directory): the caller must
// write the file atomically (temporary file in the same directory, then rename).
std::string render_metrics(const std::vector<Cell>& unsorted, const RunFacts& facts) {
  const auto cells = sorted(unsorted);
  const Summary s = summarise(cells);
  std::string out;
  out += "# netverify: did the network policy hold at the last run? For node_exporter's textfile collector;\n"
         "# the file is replaced atomically at each run.\n";

  metric_header(out, "netverify_info", "The policy and mode of the last run (value always 1).");
  out += fmt::format("netverify_info{{policy=\"{}\",policy_sha256=\"{}\",mode=\"{}\"}} 1\n", label_escape(facts.policy),
                     label_escape(facts.policy_sha256), label_escape(facts.mode));

  // Every combination is written, zeros too, so a verdict that vanishes drops to 0 on a graph.
  std::map<std::pair<std::string, std::string>, std::size_t> by_verdict;
  for (const auto v : {Verdict::delivered, Verdict::blocked, Verdict::nothing_listening, Verdict::inconclusive})
    for (const bool allowed : {true, false}) by_verdict[{to_string(v), allowed ? "allowed" : "forbidden"}] = 0;
  for (const auto& c : cells) ++by_verdict[{to_string(c.observed), expectation(c)}];
  metric_header(out, "netverify_cells", "Cells of the last run by observed verdict and expectation.");
  for (const auto& [key, count] : by_verdict)
    out += fmt::format("netverify_cells{{verdict=\"{}\",expected=\"{}\"}} {}\n", key.first, key.second, count);

  metric_header(out, "netverify_proven", "Cells proven at the last run.");
  out += fmt::format("netverify_proven {}\n", s.proven);
  metric_header(out, "netverify_violations", "Cells violating the policy at the last run (allowed blocked, forbidden delivered).");
  out += fmt::format("netverify_violations {}\n", s.violations);
  metric_header(out, "netverify_inconclusive", "Cells with no proof either way at the last run.");
  out += fmt::format("netverify_inconclusive {}\n", s.inconclusive);
  metric_header(out, "netverify_exit_code", "Exit code of the last run: 0 proven, 1 violation, 3 inconclusive.");
  out += fmt::format("netverify_exit_code {}\n", exit_code_for(cells));
  metric_header(out, "netverify_last_run_timestamp_seconds", "When the last run started, in seconds since the epoch.");
  if (const auto when = epoch_seconds(facts.started_utc)) out += fmt::format("netverify_last_run_timestamp_seconds {}\n", *when);
  metric_header(out, "netverify_duration_seconds", "Wall time of the last run's probing.");
  out += fmt::format("netverify_duration_seconds {}\n", facts.seconds);
  // A gauge despite the suffix: the probes of the last run, not a running count.
  metric_header(out, "netverify_probes_total", "Probes sent by the last run.");
  out += fmt::format("netverify_probes_total {}\n", facts.probes);

  // One series per label set: cells differing only in fields that are not labels merge, and
  // the series is 1 only if all of them are proven.
  std::map<std::string, bool> ok_by_labels;
  for (const auto& c : cells) {
    const std::string labels = fmt::format(
        "source=\"{}\",destination=\"{}\",port=\"{}\",proto=\"{}\",layer=\"{}\",via=\"{}\"", label_escape(c.source),
        label_escape(c.destination), c.port, to_string(c.proto), label_escape(c.layer), label_escape(c.via));
    const auto [it, inserted] = ok_by_labels.emplace(labels, is_proven(c));
    if (!inserted) it->second = it->second && is_proven(c);
  }
  metric_header(out, "netverify_cell_ok", "1 when the cell was proven at the last run, 0 when not (violation or inconclusive).");
  for (const auto& [labels, ok] : ok_by_labels) out += fmt::format("netverify_cell_ok{{{}}} {}\n", labels, ok ? 1 : 0);
  return out;
}

}  // namespace netpol::live
