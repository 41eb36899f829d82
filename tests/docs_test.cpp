// The docs stay true to the code: every diagnostic code is explained.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace {
std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

// The compiler's codes, every target's and the verifier's (targets/<name>/<name>_codes.h, verifier/<name>/<name>_codes.h).
std::string all_code_headers() {
  std::string text = read(NETPOL_DIAGNOSTIC_CODES);
  for (const char* dir : {"/targets", "/verifier"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(std::string(NETPOL_SOURCE_DIR) + dir)) {
      auto name = entry.path().filename().string();
      if (name.size() > 9 && name.ends_with("_codes.h")) text += read(entry.path().string());
    }
  }
  return text;
}

TEST_CASE("Every diagnostic code has its own section in docs/diagnostics.md", "[docs]") {
  auto header = all_code_headers();
  auto docs = read(std::string(NETPOL_SOURCE_DIR) + "/docs/diagnostics.md");
  REQUIRE_FALSE(docs.empty());
  static const std::regex code(R"re("([EW]\d{3})")re");
  int seen = 0;
  for (auto it = std::sregex_iterator(header.begin(), header.end(), code); it != std::sregex_iterator(); ++it) {
    ++seen;
    std::string heading = "### " + (*it)[1].str();
    INFO("docs/diagnostics.md lacks a heading '" << heading << "'");
    CHECK(docs.find(heading) != std::string::npos);
  }
  CHECK(seen >= 30);
}
