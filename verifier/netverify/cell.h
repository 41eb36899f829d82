#pragma once
// One cell of the matrix netverify proves: source x destination x port, with what the policy
// expects and what was observed. The plan (plan.h) fills the expectation, verdict.h the observation,
// report.h prints them.
#include <cstdint>
#include <string>
#include <vector>

#include "probe.h"

namespace netpol::live {

enum class Verdict {
  delivered,          // the destination saw the probe (its token, or a handshake with its service)
  blocked,            // the destination is up and listening, and the probe never reached it
  nothing_listening,  // passed every firewall, but no service answers on the port
  inconclusive,       // no proof either way (UDP silence, a destination that is down, ...)
};
std::string to_string(Verdict v);  // "delivered", "blocked", "nothing-listening", "inconclusive"

struct Cell {
  std::string source;               // zone or host name ("lan", "vm-intranet", "vpn")
  std::string source_address;
  std::string destination;          // host name, or a zone's probe ("internet")
  std::string destination_address;
  L4 proto = L4::tcp;
  std::uint16_t port = 0;
  std::string layer = "all";        // "all", or in the lab "node firewall alone" / "vm firewalls alone"
  std::string via;                  // "" direct, or "proxy jellyfin.home.arpa", "vpn tunnel"
  bool expected_allowed = false;
  std::string rule;                 // "flows.npol:47 allow lan -> extranet : https, http, openvpn", or "default deny"
  Verdict observed = Verdict::inconclusive;
  std::string evidence;             // "token seen at vm-intranet", "timeout; listener up", ...
};

// A violation: an allowed flow not delivered (blocked or nothing listening counts only when the
// expectation says a service must answer, see verdict.h), or a forbidden flow delivered.
bool is_violation(const Cell& cell);
bool is_proven(const Cell& cell);  // delivered when allowed, blocked when forbidden

// 0 every cell proven, 1 a violation, 3 inconclusive cells remain (and no violation).
int exit_code_for(const std::vector<Cell>& cells);

}  // namespace netpol::live
