#pragma once
// One ufw rule exactly as ufw 0.36.2 stores it: the `### tuple ###` line of
// user.rules and the iptables body ufw derives from it (backend_iptables.py
// _write_rules and _get_rules_from_formatted, common.py format_rule). The
// emitter writes rules with it and the reader checks deployed bodies with it, so
// "tuple and body agree" means one thing; the lab test proves it equals ufw's own.
#include <optional>
#include <string>
#include <vector>

namespace netpol::ufw {

struct Rule {
  std::string action = "allow";  // allow, deny, reject, limit
  std::string logtype;           // "", "log" or "log-all"
  bool forward = false;          // a `ufw route` rule: FORWARD chain
  std::string direction = "in";  // in, out
  std::string iface_in;          // `in on IF`
  std::string iface_out;         // `out on IF`
  std::string proto = "any";     // tcp, udp, any, ...
  std::string dport = "any";     // any, N, N:M, or a comma list of those
  std::string sport = "any";
  std::string dst = "0.0.0.0/0"; // as ufw writes it: a single host without /32 or /128
  std::string src = "0.0.0.0/0";
  std::string comment;           // plain text; user.rules holds it as lowercase hex
  bool v6 = false;               // user6.rules, ufw6- chains
};

// "### tuple ### allow tcp 22 198.18.1.20 any 198.18.1.0/25 in comment=6162"
std::string tuple_line(const Rule& r);

// The iptables-restore lines ufw writes under the tuple (one, two or more).
std::vector<std::string> body_lines(const Rule& r);

// The arguments after `ufw` in a shell script, every value single-quoted:
// "allow in from '198.18.1.0/25' to '198.18.1.20' port '22' proto 'tcp' comment '...'"
std::string cli_args(const Rule& r);

// The rule as `ufw show added` prints it, without the leading "ufw " and without
// the comment (ufw's UFWCommandRule.get_command, full and short syntax).
std::string added_spec(const Rule& r);

// A whole user.rules (v6: user6.rules) as ufw writes it for the defaults
// deny incoming, deny outgoing, deny routed at LOGLEVEL=low, with `# ` header
// lines before *filter (iptables-restore skips them; ufw drops them on rewrite).
std::string user_rules_file(const std::vector<Rule>& rules, bool v6, const std::vector<std::string>& header);

std::string to_hex(const std::string& text);                 // lowercase, as binascii.hexlify
std::optional<std::string> from_hex(const std::string& hex);  // nullopt unless even-length hex

}  // namespace netpol::ufw
