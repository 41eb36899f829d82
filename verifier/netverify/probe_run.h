#pragma once
// Runs the probes of a plan: one thread per source, joined to the source's namespace, all sources
// at once; then each cell gets its verdict from what came back and what the destination side saw.
// Shared by the node run and the lab.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plan.h"
#include "probe.h"
#include "verdict.h"

namespace netpol::live {

struct SourcePlace {
  std::string ns;      // namespace to probe from ("" = where netverify runs)
  std::string device;  // bind probes to this device ("" = none; the VPN client's tun)
  std::string address; // source address to bind (the VPN client's tunnel address)
};

// What the destination side knows about one cell, asked after the probes ended.
struct DestinationView {
  std::function<bool(const Plan::Entry&, const std::string& token, const ProbeResult&)> token_seen =
      [](auto&, auto&, auto&) { return false; };
  std::function<std::optional<bool>(const Plan::Entry&)> listening = [](auto&) { return std::nullopt; };
  std::function<std::optional<bool>(const Plan::Entry&, const ProbeResult&)> seen_on_tap =
      [](auto&, auto&) { return std::nullopt; };
  std::function<bool(const Plan::Entry&)> destination_up = [](auto&) { return true; };
  std::function<bool(const Plan::Entry&, const ProbeResult&)> reset_on_tap = [](auto&, auto&) { return false; };
};

struct RunCounts {
  std::size_t probes = 0;
  double seconds = 0;
};

// Probes `entries` (a subset of plan.entries, by index) and fills their cells' observation.
// `places` maps a source name to where it probes from. Sources without a place are skipped (their
// cells stay inconclusive, with the evidence saying so).
RunCounts probe_entries(std::vector<Plan::Entry>& entries,
                        const std::map<std::string, SourcePlace>& places, const ProberOptions& options,
                        const DestinationView& view, std::chrono::milliseconds settle);

}  // namespace netpol::live
