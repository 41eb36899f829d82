// The error corpus: tests/policies/errors holds malformed or wrong policies, one case each.
//
// A case is either a file NAME.npol, or a folder NAME/ whose entry is main.npol (for includes).
// The entry file's comment lines say what the compiler must report:
//
//   # expect: E200 12:7              a diagnostic (error or warning) at line 12, column 7 of the entry
//   # expect: E500 other.npol:3:1    ... of another file, relative to the case's folder
//   # expect-text: did you mean 'lan'?   text the rendered diagnostics must contain
//
// Every diagnostic the compiler prints must be listed, no more and no fewer (a multiset:
// two diagnostics of one code at one place are listed twice), so the corpus proves that
// every error is reported and that no error drags noise along with it.
//
// A case may record a known compiler bug. Its `# expect:` lines then say what the compiler
// SHOULD report, and it adds:
//
//   # known-bug: what is wrong             (one or more lines)
//   # currently: E100 7:1                  (every diagnostic the compiler prints today)
//
// Such a case checks the `currently` lines exactly, so when the compiler's behaviour changes
// the case fails and a person looks again: once the output matches `expect`, delete the
// `known-bug` and `currently` lines.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "diagnostics.h"
#include "file_reader.h"
#include "pipeline.h"

#ifndef NETPOL_ERROR_CORPUS
#error "NETPOL_ERROR_CORPUS must name tests/policies/errors"
#endif
#ifndef NETPOL_DIAGNOSTIC_CODES
#error "NETPOL_DIAGNOSTIC_CODES must name compiler/diagnostic_codes.h"
#endif

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMinimumCases = 40;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct Case {
  std::string name;  // the file or folder name in the corpus
  fs::path entry;    // the file handed to the compiler
  fs::path folder;   // locations in `expect` lines are relative to this
};

// Every case, sorted by name so failures come in a stable order.
std::vector<Case> corpus() {
  std::vector<Case> cases;
  for (const auto& e : fs::directory_iterator(NETPOL_ERROR_CORPUS)) {
    const auto& p = e.path();
    if (e.is_directory())
      cases.push_back({p.filename().string(), p / "main.npol", p});
    else if (e.is_regular_file() && p.extension() == ".npol")
      cases.push_back({p.filename().string(), p, p.parent_path()});
  }
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

// Orders "E200 12:7" and "E500 other.npol:3:1" by file, line, column, then code, so lists read in source order.
bool by_place(const std::string& a, const std::string& b) {
  static const std::regex parts(R"(^(\S+) (?:(.*):)?(\d+):(\d+)$)");
  auto key = [](const std::string& s) {
    std::smatch m;
    if (!std::regex_match(s, m, parts)) return std::make_tuple(std::string("~"), 0L, 0L, s);
    return std::make_tuple(m[2].str(), std::stol(m[3]), std::stol(m[4]), m[1].str());
  };
  return key(a) < key(b);
}

struct Expectations {
  std::vector<std::string> expect;     // "E200 12:7", "E500 other.npol:3:1", sorted
  std::vector<std::string> currently;  // the same, for a known bug
  std::vector<std::string> texts;
  std::vector<std::string> known_bugs;
  std::vector<std::string> malformed;  // directive lines this parser does not understand
};

Expectations expectations(const fs::path& entry) {
  static const std::regex directive(R"(^#\s*(expect|expect-text|currently|known-bug)\s*:\s*(.*?)\s*$)");
  static const std::regex location(R"(^([EW]\d{3})\s+(?:(\S+):)?(\d+):(\d+)$)");
  Expectations out;
  std::istringstream in(read_text(entry));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::smatch m;
    if (!std::regex_match(line, m, directive)) {
      // A near miss ("# expects:", "#expect E100") would silently drop an expectation.
      if (std::regex_search(line, std::regex(R"(^#\s*(expect|currently|known-bug))"))) out.malformed.push_back(line);
      continue;
    }
    const std::string kind = m[1];
    const std::string value = m[2];
    if (kind == "expect-text") {
      out.texts.push_back(value);
    } else if (kind == "known-bug") {
      out.known_bugs.push_back(value);
    } else {
      std::smatch l;
      if (!std::regex_match(value, l, location)) {
        out.malformed.push_back(line);
        continue;
      }
      std::string where = l[2].matched ? l[2].str() + ":" : "";
      (kind == "expect" ? out.expect : out.currently).push_back(l[1].str() + " " + where + l[3].str() + ":" + l[4].str());
    }
  }
  std::sort(out.expect.begin(), out.expect.end(), by_place);
  std::sort(out.currently.begin(), out.currently.end(), by_place);
  return out;
}

// "E200 12:7" for a diagnostic in the entry file, "E500 other.npol:3:1" for one elsewhere.
std::string located(const netpol::Diagnostic& d, const netpol::Compilation& c, const Case& k) {
  if (!d.span.valid()) return d.code + " <no location>";
  const auto& file = c.sources.file(d.span.file);
  auto lc = file.position(d.span.begin);
  fs::path path = fs::path(file.display_path).lexically_normal();
  std::string where;
  if (path != k.entry.lexically_normal()) where = path.lexically_relative(k.folder.lexically_normal()).generic_string() + ":";
  return d.code + " " + where + std::to_string(lc.line) + ":" + std::to_string(lc.column);
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += "  " + i + "\n";
  return out.empty() ? "  (nothing)\n" : out;
}

bool has_error_code(const std::vector<std::string>& located_codes) {
  return std::any_of(located_codes.begin(), located_codes.end(), [](const std::string& s) { return s[0] == 'E'; });
}

}  // namespace

TEST_CASE("Every case of the error corpus reports exactly the diagnostics it expects", "[corpus]") {
  for (const auto& k : corpus()) {
    DYNAMIC_SECTION(k.name) {
      REQUIRE(fs::is_regular_file(k.entry));
      auto want = expectations(k.entry);
      INFO("case " << k.entry.string());
      {
        INFO("malformed directives:\n" << joined(want.malformed));
        CHECK(want.malformed.empty());
      }
      // A case of the *error* corpus must expect at least one error.
      CHECK(has_error_code(want.expect));

      netpol::DiskFileReader reader;
      auto c = netpol::check_policy(k.entry.string(), reader);
      std::vector<std::string> got;
      std::string rendered;
      for (const auto& d : c->diags.sorted()) {
        got.push_back(located(d, *c, k));
        rendered += netpol::render(d, c->sources, false);
      }
      std::sort(got.begin(), got.end(), by_place);
      INFO("the compiler printed:\n" << rendered);

      if (want.known_bugs.empty()) {
        CHECK(want.currently.empty());  // `currently` without `known-bug` is a leftover
        INFO("expected:\n" << joined(want.expect) << "reported:\n" << joined(got));
        CHECK(got == want.expect);
        CHECK(c->diags.has_errors());
      } else {
        INFO("known bug:\n" << joined(want.known_bugs) << "recorded as currently:\n" << joined(want.currently)
                            << "reported now:\n" << joined(got) << "correct (expect):\n" << joined(want.expect)
                            << "The compiler's output for this known-bug case changed. If it now matches the "
                               "`expect` lines, delete the `known-bug` and `currently` lines; otherwise look again.");
        CHECK(got == want.currently);
        CHECK(want.currently != want.expect);  // else the bug is fixed and the markers are stale
      }
      for (const auto& text : want.texts) {
        INFO("expected text: " << text);
        CHECK(rendered.find(text) != std::string::npos);
      }
    }
  }
}

TEST_CASE("The error corpus has enough cases and covers every error code", "[corpus]") {
  auto cases = corpus();
  INFO("corpus: " << NETPOL_ERROR_CORPUS);
  CHECK(cases.size() >= kMinimumCases);

  // The codes the corpus proves today: a normal case's `expect`, a known-bug case's `currently`.
  std::set<std::string> covered;
  for (const auto& k : cases) {
    auto want = expectations(k.entry);
    for (const auto& e : want.known_bugs.empty() ? want.expect : want.currently) covered.insert(e.substr(0, 4));
  }

  const std::string header = read_text(NETPOL_DIAGNOSTIC_CODES);
  static const std::regex code(R"re("(E\d{3})")re");
  std::set<std::string> codes;
  for (auto it = std::sregex_iterator(header.begin(), header.end(), code); it != std::sregex_iterator(); ++it)
    codes.insert((*it)[1]);
  REQUIRE(codes.size() >= 30);  // the header was read and parsed
  for (const auto& c : codes) {
    INFO("no case of the error corpus expects " << c);
    CHECK(covered.count(c) == 1);
  }
}
