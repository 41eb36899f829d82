#include "pipeline.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sha256.h"
#include "test_support.h"

using namespace netpol;

TEST_CASE("Compiling twice gives identical bytes", "[pipeline]") {
  auto a = testing::compile_repo_file("policy/homelab.npol");
  auto b = testing::compile_repo_file("policy/homelab.npol");
  auto out_a = build_outputs(*a);
  auto out_b = build_outputs(*b);
  REQUIRE(out_a.count("policy.json"));
  REQUIRE(out_a.count("manifest.json"));
  CHECK(out_a == out_b);
}

TEST_CASE("The manifest hashes every file and the policy's sources", "[pipeline]") {
  auto c = testing::compile_repo_file("policy/homelab.npol");
  auto out = build_outputs(*c);
  auto manifest = nlohmann::json::parse(out.at("manifest.json"));
  CHECK(manifest["tool"] == "netpolc");
  CHECK(manifest["policy"] == "homelab.npol");
  REQUIRE(manifest["files"].size() == out.size() - 1);
  for (const auto& f : manifest["files"]) CHECK(f["sha256"] == sha256_hex(out.at(f["path"].get<std::string>())));
  std::vector<std::string> sources;
  for (const auto& s : manifest["sources"]) sources.push_back(s["path"]);
  CHECK(sources == std::vector<std::string>{"homelab.npol", "homelab-addresses.npol", "flows.npol"});
  CHECK(manifest["policy_sha256"].get<std::string>().size() == 64);
  // No absolute paths anywhere in the output.
  for (const auto& [path, content] : out) CHECK(content.find(NETPOL_SOURCE_DIR) == std::string::npos);
}

TEST_CASE("policy.json lists each allowed flow with its rule", "[pipeline]") {
  auto c = testing::compile_repo_file("policy/homelab.npol");
  auto doc = nlohmann::json::parse(build_outputs(*c).at("policy.json"));
  REQUIRE(doc["flows"].size() == c->policy.flows.size());
  const auto& first = doc["flows"][0];
  CHECK(first["source"] == "lan");
  CHECK(first["destination"] == "extranet");
  CHECK(first["proto"] == "tcp");
  CHECK(first["first_port"] == 443);
  CHECK(first["last_port"] == 443);
  CHECK(first["from"].get<std::string>().rfind("flows.npol:", 0) == 0);
}

TEST_CASE("A policy with errors produces no output", "[pipeline]") {
  auto c = testing::compile_text("zone lan\n");
  CHECK(c->diags.has_errors());
  CHECK(build_outputs(*c).empty());
}

TEST_CASE("SHA-256 matches the standard test vector", "[pipeline]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
