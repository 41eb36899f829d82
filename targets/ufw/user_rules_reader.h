#pragma once
// Reads a deployed /etc/ufw/user.rules (or user6.rules): the `### tuple ###` lines
// ufw itself reads, and a check that the iptables lines under each tuple are the
// ones ufw would write for it (the kernel runs the body, `ufw status` shows the
// tuple: when they disagree, neither tells the truth).
#include <string>
#include <vector>

#include "ufw_rule.h"

namespace netpol::ufw {

struct ReadRule {
  Rule rule;
  int line = 0;                    // of the tuple, 1-based
  bool application = false;        // a 9-field tuple (an application profile): ports unknown here
  std::vector<std::string> body;   // the iptables lines under the tuple
};

struct UserRules {
  std::vector<ReadRule> rules;     // in file order; only tuples that parsed and match their body
  std::vector<std::string> errors; // "NAME:LINE: message"
};

// `name` prefixes every error (the file's path as the user knows it); `v6` for user6.rules.
UserRules read_user_rules(const std::string& text, bool v6, const std::string& name);

}  // namespace netpol::ufw
