// Hostile input. Names and comments in the .fw files can only come from policy text,
// which the language restricts; these tests prove the rest: rule comments can never
// hold a newline or a '#' (a newline would start a new rule line; Perl cuts a comment
// at the first '#', Rust at the last), whatever the rule text or the file names are.
#include <string>

#include "proxmox_reader.h"
#include "proxmox_test_support.h"

using namespace netpol;
using namespace netpol::proxmox;
using namespace netpol::proxmox::testing;

namespace {

// Every byte printable ASCII or LF; every rule line has exactly one '#', before its comment.
void check_harmless(const Files& files) {
  for (const auto& [name, text] : files) {
    INFO(name);
    for (char ch : text) CHECK(((ch >= 0x20 && ch <= 0x7e) || ch == '\n'));
    std::size_t start = 0;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      auto line = text.substr(start, end - start);
      start = end + 1;
      bool rule = line.rfind("IN ", 0) == 0 || line.rfind("OUT ", 0) == 0 || line.rfind("GROUP ", 0) == 0;
      if (!rule) continue;
      INFO(line);
      CHECK(std::count(line.begin(), line.end(), '#') == 1);
      auto comment = line.substr(line.find(" # ") + 3);
      CHECK(comment.size() <= 120);
      CHECK(comment.find_first_of("'\"\\`$") == std::string::npos);
    }
  }
}

const char* kZones = R"(
zone lan { bridge vmbr0 }
address lan 198.18.1.0/24
host media in lan { vmid 100 }
address media 198.18.1.20
)";

}  // namespace

TEST_CASE("proxmox a long rule text becomes a comment of at most 120 characters") {
  std::string services, names;
  for (int i = 0; i < 30; ++i) {
    services += "service svc-number-" + std::to_string(i) + " tcp/" + std::to_string(2000 + i) + "\n";
    names += (names.empty() ? "" : ", ") + std::string("svc-number-") + std::to_string(i);
  }
  auto files = emit_text(std::string(kZones) + services + "allow lan -> media : " + names + "\n");
  check_harmless(files);
  auto cluster = files.at("cluster.fw");
  CHECK(cluster.find("allow lan -> media : svc-number-0, svc-number-1") != std::string::npos);
  CHECK(cluster.find("...\n") != std::string::npos);  // cut, and said so
}

TEST_CASE("proxmox file names with quotes, '#', '$', backticks and backslashes reach comments only as '?'") {
  auto c = netpol::testing::compile({{"main#$`'.npol", std::string(kZones) + "include \"rules-#-$(id)-`x`-'q'.npol\"\n"},
                                     {"rules-#-$(id)-`x`-'q'.npol", "allow lan -> media : tcp/80 # a comment \" ' ` $ \\\n"}},
                                    "main#$`'.npol");
  INFO(netpol::testing::rendered(*c));
  REQUIRE(c->ok());
  auto files = emit(*c);
  REQUIRE(!files.empty());
  check_harmless(files);
  auto cluster = files.at("cluster.fw");
  CHECK(cluster.find("# rules-?-?(id)-?x?-?q?.npol:1 allow lan -> media : tcp/80\n") != std::string::npos);
  CHECK(cluster.find("from main????.npol") != std::string::npos);  // the provenance line
  CHECK(cluster.find("a comment") == std::string::npos);           // policy comments never reach the output
}

TEST_CASE("proxmox a newline in the entry file's name cannot start a line of its own") {
  auto c = netpol::testing::compile({{"evil\nIN ACCEPT.npol", kZones}}, "evil\nIN ACCEPT.npol");
  REQUIRE(c->ok());
  auto files = emit(*c);
  check_harmless(files);
  for (const auto& [name, text] : files) CHECK(text.find("\nIN ACCEPT.npol") == std::string::npos);
  auto read = read_fw(files.at("cluster.fw"), FwKind::cluster, "cluster.fw");
  CHECK(read.errors == std::vector<std::string>{});
}

TEST_CASE("proxmox hostile names never reach a target: netpolc check refuses them") {
  const std::vector<std::string> names{"we\"ird", "back`tick", "dollar$x", "hash#x", "new\nline", std::string(200, 'a'),
                                       "Upper", "semi;colon"};
  for (const auto& name : names) {
    INFO(name);
    auto c = netpol::testing::compile_text("zone " + name + " { bridge vmbr0 }\naddress " + name + " 198.18.1.0/24\n");
    CHECK(!c->ok());
  }
}

TEST_CASE("proxmox every golden file is harmless") {
  for (const char* dir : {"homelab", "lab", "dual-stack", "nested", "icmp", "long-ports", "except-host"}) {
    auto files = read_dir(source_path(std::string("tests/golden/proxmox/") + dir));
    REQUIRE(!files.empty());
    check_harmless(files);
  }
}
