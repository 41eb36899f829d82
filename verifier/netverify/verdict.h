#pragma once
// From evidence to a verdict. What came back to the prober is never enough on its own (a firewall's
// TCP reset looks like a closed port; ICMP errors are rate-limited; UDP silence proves nothing), so
// the verdict weighs what the destination side knows: in the lab, every probed port has a listener
// that reports each token it receives; on a node, a capture on the VM's tap interface shows whether
// the probe passed the node's firewall.
#include <optional>
#include <string>
#include <utility>

#include "cell.h"
#include "probe.h"

namespace netpol::live {

struct Evidence {
  ProbeResult result;
  L4 proto = L4::tcp;
  bool destination_up = true;               // its link is up / its namespace exists
  bool token_seen = false;                  // the lab's listener reported the token
  std::optional<bool> listening;            // a listener or a real service holds the port (lab; the node's own sockets)
  std::optional<bool> seen_on_tap;          // the capture saw the probe arrive at the VM's NIC (node)
  bool reset_on_tap = false;                // ... and the VM answer it with a TCP reset
  std::string destination;                  // for the evidence text
};

// The verdict, and a short evidence text for the report ("token seen at vm-intranet").
std::pair<Verdict, std::string> decide(const Evidence& evidence);

}  // namespace netpol::live
