#include "output_dir.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using netpol::write_output_dir;

namespace {
struct Scratch {
  fs::path dir;
  Scratch() {
    std::string pattern = (fs::temp_directory_path() / "netpol-test-XXXXXX").string();
    dir = ::mkdtemp(pattern.data());
  }
  ~Scratch() { fs::remove_all(dir); }
};

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int entries(const fs::path& dir) {
  return static_cast<int>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}
}  // namespace

TEST_CASE("Output is written as a whole and replaces a previous output", "[output]") {
  Scratch s;
  auto out = s.dir / "out";
  REQUIRE(write_output_dir(out.string(), {{"manifest.json", "1"}, {"a/b.txt", "old"}, {"gone.txt", "x"}}) == "");
  CHECK(read(out / "a/b.txt") == "old");
  REQUIRE(write_output_dir(out.string() + "/", {{"manifest.json", "2"}, {"a/b.txt", "new"}}) == "");
  CHECK(read(out / "a/b.txt") == "new");
  CHECK_FALSE(fs::exists(out / "gone.txt"));  // the old set is gone, not merged
  CHECK(entries(s.dir) == 1);                 // no temporary directory left behind
}

TEST_CASE("A failure leaves the previous output exactly as it was", "[output]") {
  Scratch s;
  auto out = s.dir / "out";
  REQUIRE(write_output_dir(out.string(), {{"manifest.json", "1"}, {"keep.txt", "old"}}) == "");
  // "x" as a file and as a folder cannot both be written: the write fails midway.
  auto error = write_output_dir(out.string(), {{"manifest.json", "2"}, {"x", "file"}, {"x/y", "clash"}});
  CHECK_FALSE(error.empty());
  CHECK(read(out / "keep.txt") == "old");
  CHECK(read(out / "manifest.json") == "1");
  CHECK(entries(s.dir) == 1);
}

TEST_CASE("A missing parent folder or a foreign directory is refused", "[output]") {
  Scratch s;
  CHECK_THAT(write_output_dir((s.dir / "no/such/out").string(), {{"a", "b"}}), Catch::Contains("does not exist"));
  fs::create_directory(s.dir / "home");
  std::ofstream(s.dir / "home" / "precious.txt") << "data";
  CHECK_THAT(write_output_dir((s.dir / "home").string(), {{"a", "b"}}), Catch::Contains("refusing to replace"));
  CHECK(read(s.dir / "home" / "precious.txt") == "data");
  std::ofstream(s.dir / "file") << "x";
  CHECK_THAT(write_output_dir((s.dir / "file").string(), {{"a", "b"}}), Catch::Contains("not a directory"));
}
