#include "user_rules_reader.h"

#include <optional>
#include <sstream>

#include "ip.h"

namespace netpol::ufw {

namespace {

const std::string kTuple = "### tuple ###";

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

class Reader {
 public:
  Reader(bool v6, std::string name) : v6_(v6), name_(std::move(name)) {}

  UserRules read(const std::string& text) {
    auto lines = split_lines(text);
    std::size_t i = skip_header(lines);
    bool in_rules = false, ended = false, committed = false;
    std::optional<ReadRule> current;
    for (; i < lines.size(); ++i) {
      const auto& line = lines[i];
      int number = static_cast<int>(i) + 1;
      if (!in_rules) {
        if (line == "### RULES ###" && !ended) in_rules = true;
        if (line == "COMMIT") committed = true;
        continue;
      }
      if (line == "### END RULES ###") {
        finish(current);
        in_rules = false;
        ended = true;
      } else if (starts_with(line, kTuple)) {
        finish(current);
        current = parse_tuple(line.substr(kTuple.size()), number);
      } else if (starts_with(line, "-A ") || starts_with(line, "-I ")) {
        if (current) current->body.push_back(line);
        else if (!skipping_) error(number, "an iptables line without a tuple above it: ufw does not know this rule");
      } else if (line.empty()) {
        finish(current);  // ufw writes a blank line before every tuple: a body ends there
        skipping_ = false;
      } else {
        error(number, "unexpected line in the RULES section");
      }
    }
    if (!filter_) error(0, "not a ufw rules file: no *filter line");
    if (!ended) error(0, "not a ufw rules file: no '### RULES ###' ... '### END RULES ###' section");
    if (!committed) error(0, "no COMMIT line: iptables-restore would load nothing");
    return std::move(out_);
  }

 private:
  // Comment lines and blank lines may precede *filter (netpolc's provenance).
  std::size_t skip_header(const std::vector<std::string>& lines) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (lines[i] == "*filter") {
        filter_ = true;
        return i + 1;
      }
      if (!lines[i].empty() && lines[i][0] != '#') {
        error(static_cast<int>(i) + 1, "unexpected line before *filter");
        return i;
      }
    }
    return lines.size();
  }

  void error(int line, const std::string& message) {
    out_.errors.push_back(name_ + ":" + (line > 0 ? std::to_string(line) + ":" : "") + " " + message);
  }

  // "### tuple ### allow tcp 22 DST any SRC in comment=HEX"
  std::optional<ReadRule> parse_tuple(const std::string& text, int line) {
    skipping_ = true;  // body lines of a bad tuple are not reported again
    ReadRule rr;
    rr.line = line;
    std::string fields_text = text;
    if (auto at = text.find(" comment="); at != std::string::npos) {
      fields_text = text.substr(0, at);
      auto hex = words(text.substr(at + 9));
      auto comment = hex.size() == 1 ? from_hex(hex[0]) : std::nullopt;
      if (!comment) return fail(line, "comment is not hex");
      rr.rule.comment = *comment;
    }
    auto f = words(fields_text);
    if (f.size() != 7 && f.size() != 9) return fail(line, "a tuple has 7 or 9 fields, not " + std::to_string(f.size()));
    rr.application = f.size() == 9;
    if (!parse_action(f[0], rr.rule)) return fail(line, "unknown action '" + f[0] + "'");
    rr.rule.proto = f[1];
    rr.rule.dport = f[2];
    rr.rule.dst = f[3];
    rr.rule.sport = f[4];
    rr.rule.src = f[5];
    if (!parse_interfaces(f.back(), rr.rule)) return fail(line, "bad direction '" + f.back() + "'");
    rr.rule.v6 = v6_;
    for (const auto* address : {&rr.rule.src, &rr.rule.dst}) {
      auto c = parse_cidr(*address);
      if (!c.cidr) return fail(line, "bad address '" + *address + "'");
      if ((c.cidr->family == Family::v6) != v6_)
        return fail(line, "an " + std::string(v6_ ? "IPv4" : "IPv6") + " address in " +
                              (v6_ ? "user6.rules" : "user.rules") + ": '" + *address + "'");
    }
    skipping_ = false;
    return rr;
  }

  std::optional<ReadRule> fail(int line, const std::string& message) {
    error(line, message);
    return std::nullopt;
  }

  static bool parse_action(std::string a, Rule& r) {
    if (starts_with(a, "route:")) {
      r.forward = true;
      a = a.substr(6);
    }
    for (const char* log : {"_log-all", "_log"}) {
      auto at = a.find(log);
      if (at != std::string::npos && at + std::string(log).size() == a.size()) {
        r.logtype = std::string(log).substr(1);
        a = a.substr(0, at);
        break;
      }
    }
    r.action = a;
    return a == "allow" || a == "deny" || a == "reject" || a == "limit";
  }

  // in, out, in_IF, out_IF, in_IF!out_IF
  static bool parse_interfaces(const std::string& d, Rule& r) {
    if (d == "in" || d == "out") {
      r.direction = d;
      return true;
    }
    if (auto bang = d.find('!'); bang != std::string::npos) {
      if (!starts_with(d, "in_") || d.compare(bang + 1, 4, "out_") != 0) return false;
      r.direction = "in";
      r.iface_in = d.substr(3, bang - 3);
      r.iface_out = d.substr(bang + 5);
      return !r.iface_in.empty() && !r.iface_out.empty();
    }
    if (starts_with(d, "in_")) {
      r.direction = "in";
      r.iface_in = d.substr(3);
      return !r.iface_in.empty();
    }
    if (starts_with(d, "out_")) {
      r.direction = "out";
      r.iface_out = d.substr(4);
      return !r.iface_out.empty();
    }
    return false;
  }

  void finish(std::optional<ReadRule>& current) {
    if (!current) return;
    if (current->application) {
      error(current->line, "an application-profile rule: its ports live in /etc/ufw/applications.d, not checked here");
    } else if (auto want = body_lines(current->rule); want != current->body) {
      const auto& have = current->body;
      std::size_t k = 0;
      while (k < want.size() && k < have.size() && want[k] == have[k]) ++k;
      auto show = [&](const std::vector<std::string>& v) { return k < v.size() ? "'" + v[k] + "'" : std::string("nothing more"); };
      error(current->line, "the iptables lines do not match the tuple: ufw writes " + show(want) + ", the file has " + show(have));
    } else {
      out_.rules.push_back(std::move(*current));
    }
    current.reset();
  }

  bool v6_;
  std::string name_;
  bool filter_ = false;
  bool skipping_ = false;
  UserRules out_;
};

}  // namespace

UserRules read_user_rules(const std::string& text, bool v6, const std::string& name) {
  return Reader(v6, name).read(text);
}

}  // namespace netpol::ufw
