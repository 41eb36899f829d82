// Golden files of the Proxmox target, under tests/golden/proxmox/<case>/.
// Regenerate them all after an intended change of the output:
//   NETPOL_UPDATE_GOLDEN=1 build/targets/proxmox/netpol_proxmox_tests "[golden]"
// then review `git diff tests/golden/proxmox`.
#include <cstdlib>

#include "proxmox_drift.h"
#include "proxmox_reader.h"
#include "proxmox_test_support.h"

using namespace netpol;
using namespace netpol::proxmox;
using namespace netpol::proxmox::testing;

namespace {

struct GoldenCase {
  const char* name;
  const char* policy;
};

const GoldenCase kCases[] = {
    {"homelab", "policy/homelab.npol"},
    {"lab", "policy/lab.npol"},
    {"dual-stack", "tests/golden/proxmox/policies/dual-stack.npol"},
    {"nested", "tests/golden/proxmox/policies/nested.npol"},
    {"icmp", "tests/golden/proxmox/policies/icmp.npol"},
    {"long-ports", "tests/golden/proxmox/policies/long-ports.npol"},
    {"except-host", "tests/golden/proxmox/policies/except-host.npol"},
};

std::string golden_dir(const GoldenCase& gc) { return source_path(std::string("tests/golden/proxmox/") + gc.name); }

FwKind kind_of(const std::string& name) {
  if (name == "cluster.fw") return FwKind::cluster;
  if (name == "host.fw") return FwKind::host;
  return FwKind::guest;
}

}  // namespace

TEST_CASE("proxmox golden: every case emits exactly its stored files", "[golden]") {
  bool update = std::getenv("NETPOL_UPDATE_GOLDEN") != nullptr;
  for (const auto& gc : kCases) {
    DYNAMIC_SECTION(gc.name) {
      auto c = checked(netpol::testing::compile_repo_file(gc.policy));
      auto files = emit(*c);
      REQUIRE(!c->diags.has_errors());
      if (update) write_dir(golden_dir(gc), files);
      auto stored = read_dir(golden_dir(gc));
      std::vector<std::string> emitted_names, stored_names;
      for (const auto& [name, text] : files) emitted_names.push_back(name);
      for (const auto& [name, text] : stored) stored_names.push_back(name);
      REQUIRE(emitted_names == stored_names);
      for (const auto& [name, text] : files) {
        INFO(name);
        CHECK(text == stored.at(name));
      }
    }
  }
}

TEST_CASE("proxmox golden: emitting twice gives the same bytes", "[golden]") {
  for (const auto& gc : kCases) {
    DYNAMIC_SECTION(gc.name) {
      auto first = emit(*checked(netpol::testing::compile_repo_file(gc.policy)));
      auto second = emit(*checked(netpol::testing::compile_repo_file(gc.policy)));
      CHECK(first == second);
    }
  }
}

TEST_CASE("proxmox golden: every stored file reads back without an error", "[golden][reader]") {
  for (const auto& gc : kCases) {
    DYNAMIC_SECTION(gc.name) {
      auto stored = read_dir(golden_dir(gc));
      REQUIRE(stored.count("cluster.fw") == 1);
      auto cluster = read_fw(stored.at("cluster.fw"), FwKind::cluster, "cluster.fw");
      CHECK(cluster.errors == std::vector<std::string>{});
      CHECK(!cluster.file.ipsets.empty());
      for (const auto& [name, text] : stored) {
        if (name == "cluster.fw") continue;
        auto read = read_fw(text, kind_of(name), name, &cluster.file);
        INFO(name);
        CHECK(read.errors == std::vector<std::string>{});
        CHECK(read.file.options.at("enable") == "1");
      }
    }
  }
}

TEST_CASE("proxmox golden: the deployed files enforce exactly the policy's flows", "[golden][drift]") {
  for (const auto& gc : kCases) {
    DYNAMIC_SECTION(gc.name) {
      auto c = checked(netpol::testing::compile_repo_file(gc.policy));
      std::vector<std::string> errors;
      auto deployed = proxmox_deployed(golden_dir(gc), errors);
      CHECK(errors == std::vector<std::string>{});
      auto expected = proxmox_expected(c->policy);
      CHECK(!expected.empty());
      auto drift = compare(expected, deployed);
      INFO(drift_text(drift));
      CHECK(drift.empty());
    }
  }
}
