#include "ufw_rule.h"

#include <stdexcept>

namespace netpol::ufw {

namespace {

bool is_any(const std::string& address) { return address == "0.0.0.0/0" || address == "::/0"; }

// ufw's `multi`: a port list or range needs -m multiport.
bool is_multi(const Rule& r) {
  auto multi = [](const std::string& p) { return p.find_first_of(",:") != std::string::npos; };
  return multi(r.dport) || multi(r.sport);
}

std::string prefix(const Rule& r) { return r.v6 ? "ufw6" : "ufw"; }

std::string chain_suffix(const Rule& r) {
  if (r.forward) return "forward";
  return r.direction == "out" ? "output" : "input";
}

// One iptables line, split where ufw's regular expressions cut it.
struct Line {
  std::string chain;
  std::string match;   // everything between the chain and "-j"
  std::string target;  // everything after "-j "
  std::string str() const { return "-A " + chain + (match.empty() ? "" : " " + match) + " -j " + target; }
};

// common.py format_rule: the match part.
std::string format_match(const Rule& r) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : " ") + s; };
  if (!r.iface_in.empty()) add("-i " + r.iface_in);
  if (!r.iface_out.empty()) add("-o " + r.iface_out);
  bool multi = is_multi(r);
  if (r.proto == "any") {
    add("-p all");
  } else {
    add("-p " + r.proto);
    if (multi) {
      add("-m multiport");
      if (r.dport != "any" && r.sport != "any") add("--dports " + r.dport + " -m multiport --sports " + r.sport);
      else if (r.dport != "any") add("--dports " + r.dport);
      else if (r.sport != "any") add("--sports " + r.sport);
    }
  }
  if (!is_any(r.dst)) add("-d " + r.dst);
  if (!multi && r.dport != "any") add("--dport " + r.dport);
  if (!is_any(r.src)) add("-s " + r.src);
  if (!multi && r.sport != "any") add("--sport " + r.sport);
  return out;
}

// common.py format_rule: the target, with ufw's `_log` marker still attached.
std::string format_target(const Rule& r) {
  std::string log = r.logtype.empty() ? "" : "_" + r.logtype;
  if (r.action == "allow") return "ACCEPT" + log;
  if (r.action == "reject") return "REJECT" + log + (r.proto == "tcp" ? " --reject-with tcp-reset" : "");
  if (r.action == "limit") return "LIMIT" + log;
  return "DROP" + log;
}

// A proto-less rule with ports becomes a tcp and a udp line; without ports, no -p.
std::vector<Line> split_protocols(const Rule& r, const Line& base) {
  const std::string all = "-p all";
  auto pos = base.match.find(all);
  if (pos == std::string::npos) return {base};
  if (r.dport == "any" && r.sport == "any") {
    Line l = base;
    if (pos + all.size() < l.match.size()) l.match.erase(pos, all.size() + 1);  // and the space after it
    else l.match.erase(pos > 0 ? pos - 1 : pos, all.size() + (pos > 0 ? 1 : 0));
    return {l};
  }
  Line tcp = base, udp = base;
  tcp.match.replace(pos, all.size(), "-p tcp");
  udp.match.replace(pos, all.size(), "-p udp");
  if (r.action == "reject") {
    auto space = tcp.target.find(' ');
    tcp.target.insert(space == std::string::npos ? tcp.target.size() : space, " --reject-with tcp-reset");
  }
  return {tcp, udp};
}

// `_log` / `_log-all`: a LOG and a RETURN line in the user-logging chain, a jump to it, then the rule.
std::vector<Line> add_logging(const Rule& r, const Line& l) {
  if (r.logtype.empty()) return {l};
  std::string word = l.target.substr(0, l.target.find('_'));  // ACCEPT, DROP, REJECT, LIMIT
  std::string label = word == "ACCEPT" ? "ALLOW" : word == "LIMIT" ? "LIMIT" : "BLOCK";
  std::string rest = l.target.substr(l.target.find('_') + 1 + r.logtype.size());  // after _log[-all]
  std::string log_chain = prefix(r) + "-user-logging-" + chain_suffix(r);
  std::string log = "LOG --log-prefix \"[UFW " + label + "] \"";
  std::string conditions = std::string(r.logtype == "log" ? "-m conntrack --ctstate NEW " : "") +
                           "-m limit --limit 3/min --limit-burst 10";
  // ufw builds the LOG line textually: the match, then the conditions, then -j LOG.
  Line log_line{log_chain, l.match.empty() ? conditions : l.match + " " + conditions, log};
  return {log_line, {log_chain, l.match, "RETURN"}, {l.chain, l.match, log_chain}, {l.chain, l.match, word + rest}};
}

// `limit`: remember the source, reject it after 6 new connections in 30 s, else accept.
std::vector<std::string> expand_limit(const Rule& r, const Line& l) {
  if (l.target != "LIMIT") return {l.str()};
  std::string head = "-A " + l.chain + (l.match.empty() ? "" : " " + l.match) + " -m conntrack --ctstate NEW -m recent";
  return {head + " --set", head + " --update --seconds 30 --hitcount 6 -j " + prefix(r) + "-user-limit",
          Line{l.chain, l.match, prefix(r) + "-user-limit-accept"}.str()};
}

}  // namespace

std::string to_hex(const std::string& text) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

std::optional<std::string> from_hex(const std::string& hex) {
  if (hex.size() % 2) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = value(hex[i]), lo = value(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::string tuple_line(const Rule& r) {
  std::string action = (r.forward ? "route:" : "") + r.action + (r.logtype.empty() ? "" : "_" + r.logtype);
  std::string ifaces;
  if (r.iface_in.empty() && r.iface_out.empty()) ifaces = r.direction;
  else if (!r.iface_in.empty() && !r.iface_out.empty()) ifaces = "in_" + r.iface_in + "!out_" + r.iface_out;
  else ifaces = r.direction + "_" + (r.iface_in.empty() ? r.iface_out : r.iface_in);
  std::string out = "### tuple ### " + action + " " + r.proto + " " + r.dport + " " + r.dst + " " + r.sport + " " +
                    r.src + " " + ifaces;
  if (!r.comment.empty()) out += " comment=" + to_hex(r.comment);
  return out;
}

std::vector<std::string> body_lines(const Rule& r) {
  Line base{prefix(r) + "-user-" + chain_suffix(r), format_match(r), format_target(r)};
  std::vector<std::string> out;
  for (const auto& split : split_protocols(r, base)) {
    for (const auto& logged : add_logging(r, split))
      for (auto& line : expand_limit(r, logged)) out.push_back(std::move(line));
  }
  return out;
}

namespace {

std::string quoted(const std::string& value) {
  if (value.find('\'') != std::string::npos) throw std::invalid_argument("a ufw argument holds a quote: " + value);
  return "'" + value + "'";
}

std::string location(const std::string& address) { return is_any(address) ? "any" : address; }

}  // namespace

std::string cli_args(const Rule& r) {
  std::string out = (r.forward ? "route " : "") + r.action;
  if (!r.iface_in.empty()) out += " in on " + quoted(r.iface_in);
  if (!r.iface_out.empty()) out += " out on " + quoted(r.iface_out);
  if (r.iface_in.empty() && r.iface_out.empty()) out += " " + r.direction;
  if (!r.logtype.empty()) out += " " + r.logtype;
  out += " from " + quoted(location(r.src));
  if (r.sport != "any") out += " port " + quoted(r.sport);
  out += " to " + quoted(location(r.dst));
  if (r.dport != "any") out += " port " + quoted(r.dport);
  if (r.proto != "any") out += " proto " + quoted(r.proto);
  if (!r.comment.empty()) out += " comment " + quoted(r.comment);
  return out;
}

std::string added_spec(const Rule& r) {
  std::string out = (r.forward ? "route " : "") + r.action;
  bool no_iface = r.iface_in.empty() && r.iface_out.empty();
  if (is_any(r.dst) && is_any(r.src) && r.sport == "any" && no_iface && r.dport != "any") {
    if (r.direction == "out") out += " out";
    if (!r.logtype.empty()) out += " " + r.logtype;
    return out + " " + r.dport + (r.proto != "any" ? "/" + r.proto : "");
  }
  if (!r.iface_in.empty()) out += " in on " + r.iface_in;
  if (!r.iface_out.empty()) out += " out on " + r.iface_out;
  else if (r.direction == "out") out += " out";
  if (!r.logtype.empty()) out += " " + r.logtype;
  bool has_location = false;
  auto side = [&](const char* word, const std::string& address, const std::string& port) {
    if (is_any(address) && port == "any") return;
    out += std::string(" ") + word + " " + location(address);
    if (port != "any") out += " port " + port;
    has_location = true;
  };
  side("from", r.src, r.sport);
  side("to", r.dst, r.dport);
  if (!has_location && no_iface) out += " to any";
  if (r.proto != "any") out += " proto " + r.proto;
  return out;
}

namespace {

void add_header_and_chains(std::string& out, const std::string& p, const std::vector<std::string>& header) {
  for (const auto& line : header) out += "# " + line + "\n";
  out += "*filter\n";
  for (const char* c : {"user-input", "user-output", "user-forward", "before-logging-input", "before-logging-output",
                        "before-logging-forward", "user-logging-input", "user-logging-output", "user-logging-forward",
                        "after-logging-input", "after-logging-output", "after-logging-forward", "logging-deny",
                        "logging-allow", "user-limit", "user-limit-accept"})
    out += ":" + p + "-" + c + " - [0:0]\n";
}

// _get_logging_rules("low") with every default policy at deny: every after-logging chain logs.
void add_logging_and_limits(std::string& out, const std::string& p) {
  const std::string limit = " -m limit --limit 3/min --limit-burst 10";
  out += "\n### LOGGING ###\n";
  for (const char* c : {"input", "output", "forward"})
    out += "-A " + p + "-after-logging-" + c + " -j LOG --log-prefix \"[UFW BLOCK] \"" + limit + "\n";
  out += "-I " + p + "-logging-deny -m conntrack --ctstate INVALID -j RETURN" + limit + "\n";
  out += "-A " + p + "-logging-deny -j LOG --log-prefix \"[UFW BLOCK] \"" + limit + "\n";
  out += "-A " + p + "-logging-allow -j LOG --log-prefix \"[UFW ALLOW] \"" + limit + "\n";
  out += "### END LOGGING ###\n";
  out += "\n### RATE LIMITING ###\n";
  out += "-A " + p + "-user-limit -m limit --limit 3/minute -j LOG --log-prefix \"[UFW LIMIT BLOCK] \"\n";
  out += "-A " + p + "-user-limit -j REJECT\n";
  out += "-A " + p + "-user-limit-accept -j ACCEPT\n";
  out += "### END RATE LIMITING ###\n";
  out += "COMMIT\n";
}

}  // namespace

std::string user_rules_file(const std::vector<Rule>& rules, bool v6, const std::vector<std::string>& header) {
  std::string p = v6 ? "ufw6" : "ufw";
  std::string out;
  add_header_and_chains(out, p, header);
  out += "### RULES ###\n";
  for (const auto& r : rules) {
    out += "\n" + tuple_line(r) + "\n";
    for (const auto& line : body_lines(r)) out += line + "\n";
  }
  out += "\n### END RULES ###\n";
  add_logging_and_limits(out, p);
  return out;
}

}  // namespace netpol::ufw
