#include "proxmox_reader.h"

#include <algorithm>
#include <set>

#include "proxmox_facts.h"

namespace netpol::proxmox {

namespace {

enum class Sec { none, options, aliases, ipset, rules, group };

// The writer's section order (formats.md 1.1): objects are defined before use.
int rank(Sec s) {
  switch (s) {
    case Sec::options: return 0;
    case Sec::aliases: return 1;
    case Sec::ipset: return 2;
    case Sec::rules: return 3;
    case Sec::group: return 4;
    case Sec::none: break;
  }
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Perl's name pattern [A-Za-z][A-Za-z0-9\-\_]+ (Rust's is the same with one character allowed).
bool is_object_name(std::string_view s) {
  if (s.size() < 2 || !is_alpha(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '_'; });
}

bool is_uint(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_digit); }
bool is_bool(std::string_view s) { return s == "0" || s == "1"; }
bool is_policy(std::string_view s) { return s == "ACCEPT" || s == "DROP" || s == "REJECT"; }
bool is_forward_policy(std::string_view s) { return s == "ACCEPT" || s == "DROP"; }

bool is_log_level(std::string_view s) {
  static const std::set<std::string_view> levels{"emerg", "alert", "crit",  "err",  "warning",
                                                 "notice", "info", "debug", "nolog"};
  return levels.count(s) > 0;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

// [enable=]0|1[,burst=N][,rate=N/(second|minute|hour|day)]
bool is_ratelimit(std::string_view s) {
  for (auto item : split(s, ',')) {
    if (is_bool(item)) continue;
    auto eq = item.find('=');
    if (eq == std::string_view::npos) return false;
    auto key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "enable" && is_bool(value)) continue;
    if (key == "burst" && is_uint(value)) continue;
    auto slash = value.find('/');
    if (key != "rate" || slash == std::string_view::npos || !is_uint(value.substr(0, slash)) || value[0] == '0') return false;
    auto unit = value.substr(slash + 1);
    if (unit != "second" && unit != "minute" && unit != "hour" && unit != "day") return false;
  }
  return true;
}

bool is_helper_list(std::string_view s) {
  static const std::set<std::string_view> helpers{"amanda", "ftp", "irc", "netbios-ns", "pptp", "sane", "sip", "snmp", "tftp"};
  auto items = split(s, ',');
  return std::all_of(items.begin(), items.end(), [](std::string_view i) { return helpers.count(i) > 0; });
}

bool is_queues(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return is_uint(s);
  return is_uint(s.substr(0, colon)) && is_uint(s.substr(colon + 1));
}

bool is_name_list(std::string_view s) {
  auto items = split(s, ',');
  return std::all_of(items.begin(), items.end(), [](std::string_view i) {
    return !i.empty() && std::all_of(i.begin(), i.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
  });
}

struct OptionRule {
  std::string_view key;
  bool (*valid)(std::string_view);
  std::string_view expected;
};

// formats.md 1.3, per file kind; keys are lower-case (Rust's field names are).
const std::vector<OptionRule>& option_rules(FwKind kind) {
  static const std::vector<OptionRule> cluster{
      {"enable", is_bool, "0 or 1"},
      {"ebtables", is_bool, "0 or 1"},
      {"policy_in", is_policy, "ACCEPT, DROP or REJECT"},
      {"policy_out", is_policy, "ACCEPT, DROP or REJECT"},
      {"policy_forward", is_forward_policy, "ACCEPT or DROP"},
      {"log_ratelimit", is_ratelimit, "[enable=]0|1[,burst=N][,rate=N/unit]"},
  };
  static const std::vector<OptionRule> host{
      {"enable", is_bool, "0 or 1"},
      {"nosmurfs", is_bool, "0 or 1"},
      {"tcpflags", is_bool, "0 or 1"},
      {"ndp", is_bool, "0 or 1"},
      {"log_nf_conntrack", is_bool, "0 or 1"},
      {"nf_conntrack_allow_invalid", is_bool, "0 or 1"},
      {"protection_synflood", is_bool, "0 or 1"},
      {"nftables", is_bool, "0 or 1"},
      {"log_level_in", is_log_level, "a log level"},
      {"log_level_out", is_log_level, "a log level"},
      {"log_level_forward", is_log_level, "a log level"},
      {"tcp_flags_log_level", is_log_level, "a log level"},
      {"smurf_log_level", is_log_level, "a log level"},
      {"nf_conntrack_max", is_uint, "a number"},
      {"nf_conntrack_tcp_timeout_established", is_uint, "a number"},
      {"nf_conntrack_tcp_timeout_syn_recv", is_uint, "a number"},
      {"protection_synflood_rate", is_uint, "a number"},
      {"protection_synflood_burst", is_uint, "a number"},
      {"protection_limit", is_uint, "a number"},
      {"nf_conntrack_helpers", is_helper_list, "a list of conntrack helpers"},
  };
  static const std::vector<OptionRule> guest{
      {"enable", is_bool, "0 or 1"},
      {"dhcp", is_bool, "0 or 1"},
      {"ndp", is_bool, "0 or 1"},
      {"radv", is_bool, "0 or 1"},
      {"macfilter", is_bool, "0 or 1"},
      {"ipfilter", is_bool, "0 or 1"},
      {"ips", is_bool, "0 or 1"},
      {"policy_in", is_policy, "ACCEPT, DROP or REJECT"},
      {"policy_out", is_policy, "ACCEPT, DROP or REJECT"},
      {"log_level_in", is_log_level, "a log level"},
      {"log_level_out", is_log_level, "a log level"},
      {"ips_queues", is_queues, "N or N:M"},
      {"layer2_protocols", is_name_list, "a list of ethertype names"},
  };
  return kind == FwKind::cluster ? cluster : kind == FwKind::host ? host : guest;
}

// Rule options as both parsers spell them, and their rank in the writer's order.
struct OptionName {
  std::string_view spelling;
  std::string_view key;
  int rank;
};
constexpr OptionName kOptionNames[] = {
    {"-i", "i", 0},          {"-source", "source", 1}, {"--source", "source", 1}, {"-dest", "dest", 2},
    {"--dest", "dest", 2},   {"-p", "p", 3},           {"-proto", "p", 3},        {"--proto", "p", 3},
    {"-dport", "dport", 4},  {"--dport", "dport", 4},  {"-sport", "sport", 5},    {"--sport", "sport", 5},
    {"-log", "log", 6},      {"--log", "log", 6},      {"-icmp-type", "icmp-type", 7},
    {"--icmp-type", "icmp-type", 7},
};

// Protocol names (and the numbers of those netpolc models) found in Debian's /etc/protocols,
// which Perl checks against; Rust takes any name. Normalised to one spelling.
std::optional<std::string> protocol(std::string_view p) {
  static const std::map<std::string_view, std::string_view> numbers{
      {"1", "icmp"}, {"6", "tcp"}, {"17", "udp"}, {"33", "dccp"}, {"58", "icmpv6"}, {"132", "sctp"}, {"136", "udplite"}};
  static const std::set<std::string_view> names{
      "icmp", "igmp", "ggp", "ipencap", "st", "tcp", "egp", "igp", "pup", "udp", "hmp", "xns-idp", "rdp",
      "iso-tp4", "dccp", "xtp", "ddp", "idpr-cmtp", "ipv6", "ipv6-route", "ipv6-frag", "idrp", "rsvp", "gre",
      "esp", "ah", "skip", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "rspf", "vmtp", "eigrp", "ospf",
      "ax.25", "ipip", "etherip", "encap", "pim", "ipcomp", "vrrp", "l2tp", "isis", "sctp", "fc",
      "mobility-header", "udplite", "mpls-in-ip", "manet", "hip", "shim6", "wesp", "rohc", "ethernet", "mptcp"};
  if (auto it = numbers.find(p); it != numbers.end()) return std::string(it->second);
  if (p == "ipv6-icmp") return std::string("icmpv6");
  if (names.count(p)) return std::string(p);
  return std::nullopt;
}

bool has_ports(const std::string& proto) {
  return proto == "tcp" || proto == "udp" || proto == "udplite" || proto == "dccp" || proto == "sctp";
}

// Perl's pve_verify_iface, case-insensitive: ^[a-z][a-z0-9_]{1,20}([:\.]\d+)?$
bool is_host_iface(std::string_view s) {
  auto sep = s.find_first_of(":.");
  auto base = s.substr(0, sep);
  if (base.size() < 2 || base.size() > 21 || !is_alpha(base[0])) return false;
  if (!std::all_of(base.begin(), base.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; })) return false;
  return sep == std::string_view::npos || is_uint(s.substr(sep + 1));
}

bool is_guest_iface(std::string_view s) { return s.size() > 3 && s.substr(0, 3) == "net" && is_uint(s.substr(3)); }

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : -1;
    if (extra < 0 || i + static_cast<std::size_t>(extra) >= s.size()) return false;  // needs bytes i..i+extra
    for (int k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) >> 6) != 0x2) return false;
    i += static_cast<std::size_t>(extra) + 1;
  }
  return true;
}

__extension__ typedef unsigned __int128 U128;

U128 to_number(const Cidr& c) {
  U128 v = 0;
  int bytes = c.family == Family::v4 ? 4 : 16;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | c.bytes[static_cast<std::size_t>(i)];
  return v;
}

Cidr from_number(Family f, U128 v, int prefix) {
  Cidr c;
  c.family = f;
  c.prefix = prefix;
  int bytes = f == Family::v4 ? 4 : 16;
  for (int i = bytes - 1; i >= 0; --i) {
    c.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v & 0xff);
    v >>= 8;
  }
  return c;
}

// first..last (inclusive) as the fewest networks.
std::vector<Cidr> range_networks(const Cidr& first, const Cidr& last) {
  int bits = first.max_prefix();
  U128 lo = to_number(first), hi = to_number(last);
  std::vector<Cidr> out;
  for (;;) {
    int host_bits = 0;
    while (host_bits < bits) {
      U128 size = U128(1) << (host_bits + 1);
      if ((lo & (size - 1)) != 0 || lo + (size - 1) > hi) break;
      ++host_bits;
    }
    out.push_back(from_number(first.family, lo, bits - host_bits));
    U128 end = lo + ((U128(1) << host_bits) - 1);
    if (end >= hi) return out;
    lo = end + 1;
  }
}

class Reader {
 public:
  Reader(FwKind kind, const std::string& path, const FwFile* cluster) : cluster_(cluster) {
    out_.file.path = path;
    out_.file.kind = kind;
  }

  FwRead run(std::string_view text);

 private:
  FwFile& file() { return out_.file; }
  FwKind kind() const { return out_.file.kind; }
  void error(const std::string& message) { out_.errors.push_back(out_.file.path + ":" + std::to_string(line_) + ": " + message); }

  bool clean_bytes(std::string_view line);
  void header(std::string_view line);
  void named_header(std::string_view rest, Sec sec);
  void enter(Sec sec);
  void option(std::string_view line);
  void alias(std::string_view line);
  void ipset_entry(std::string_view line);
  void rule(std::string_view line);
  bool rule_options(std::string_view rest, std::map<std::string, std::string>& opts);
  void group_rule(FwRule& r, const std::map<std::string, std::string>& opts);
  void match_rule(FwRule& r, const std::map<std::string, std::string>& opts);
  void check_ports(FwRule& r, const std::map<std::string, std::string>& opts);
  void check_icmp_type(const FwRule& r, const std::string& raw_proto);
  void check_families(const FwRule& r);
  std::optional<std::vector<ir::PortRange>> port_list(const std::string& spec, const std::string& option);
  FwAddress address(const std::string& value, const std::string& option);
  bool reference(const std::string& value, bool ipset, FwAddress& out, const std::string& option);
  std::optional<Cidr> alias_address(const std::string& scope, const std::string& name);
  void address_list(const std::string& value, FwAddress& out, const std::string& option);
  void check_group_refs();

  FwRead out_;
  const FwFile* cluster_;
  Sec sec_ = Sec::none;
  std::string current_;  // the ipset or group being read
  int line_ = 0;
  int last_rank_ = -1;
  std::set<Sec> seen_;
  std::set<std::string> ipset_seen_;                      // entries of the current ipset
  std::vector<std::pair<int, std::string>> group_refs_;   // cluster.fw [RULES] GROUPs, checked at the end
};

FwRead Reader::run(std::string_view text) {
  for (auto raw : split(text, '\n')) {
    ++line_;
    if (!clean_bytes(raw)) continue;
    auto line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      header(line);
      continue;
    }
    switch (sec_) {
      case Sec::none: error("a line outside any section (Perl skips it, Rust refuses the file)"); break;
      case Sec::options: option(line); break;
      case Sec::aliases: alias(line); break;
      case Sec::ipset: ipset_entry(line); break;
      case Sec::rules:
      case Sec::group: rule(line); break;
    }
  }
  check_group_refs();
  return std::move(out_);
}

bool Reader::clean_bytes(std::string_view line) {
  if (line.find('\r') != std::string_view::npos) {
    error("a carriage return (CRLF line end): Perl keeps it in the line and refuses it; write LF line ends");
    return false;
  }
  bool control = std::any_of(line.begin(), line.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
  if (control) {
    error("a control character");
    return false;
  }
  if (!valid_utf8(line)) {
    error("not UTF-8 (comments are decoded as UTF-8)");
    return false;
  }
  return true;
}

void Reader::header(std::string_view line) {
  auto up = upper(line);
  if (up == "[OPTIONS]") return enter(Sec::options);
  if (up == "[ALIASES]") return enter(Sec::aliases);
  if (up == "[RULES]") return enter(Sec::rules);
  // Rust matches these two prefixes case-sensitively.
  if (line.substr(0, 6) == "[IPSET") return named_header(line.substr(6), Sec::ipset);
  if (line.substr(0, 6) == "[group") return named_header(line.substr(6), Sec::group);
  sec_ = Sec::none;
  error("invalid section header '" + std::string(line) + "' (Perl reads it as a line, Rust refuses the file)");
}

// "<space>name] # comment" after "[IPSET" or "[group".
void Reader::named_header(std::string_view rest, Sec sec) {
  const char* what = sec == Sec::ipset ? "ipset" : "group";
  sec_ = Sec::none;
  if (rest.empty() || !is_space(rest[0])) return error(std::string("incomplete ") + what + " section header");
  rest = trim(rest);
  auto close = rest.find(']');
  if (close == std::string_view::npos) return error(std::string("expected ']' in the ") + what + " section header");
  auto name = rest.substr(0, close);
  auto tail = trim(rest.substr(close + 1));
  if (!tail.empty() && tail[0] != '#') return error(std::string("text after the ") + what + " section header");
  std::size_t max = sec == Sec::ipset ? kMaxIpsetName : kMaxGroupName;
  if (!is_object_name(name)) return error(std::string("invalid ") + what + " name '" + std::string(name) + "'");
  if (name.size() > max)
    return error(std::string(what) + " name '" + std::string(name) + "' longer than " + std::to_string(max) + " characters");
  if (lower(name) != name)
    return error(std::string(what) + " name '" + std::string(name) + "' is not lower-case (Perl lower-cases it, Rust does not)");
  if (sec == Sec::group && kind() != FwKind::cluster) return error("a [group] section outside cluster.fw");
  if (sec == Sec::ipset && kind() == FwKind::host) return error("an [IPSET] section in host.fw (it has no objects)");
  bool fresh = sec == Sec::ipset ? !file().ipsets.count(std::string(name)) : !file().groups.count(std::string(name));
  if (!fresh) return error(std::string("duplicate ") + what + " section '" + std::string(name) + "' (Rust refuses the file)");
  current_ = std::string(name);
  if (sec == Sec::ipset) file().ipsets[current_];
  else file().groups[current_];
  ipset_seen_.clear();
  enter(sec);
}

void Reader::enter(Sec sec) {
  bool allowed = kind() == FwKind::cluster || sec == Sec::options || sec == Sec::rules ||
                 (kind() == FwKind::guest && (sec == Sec::aliases || sec == Sec::ipset));
  if (!allowed) {
    sec_ = Sec::none;
    return error("a section this file cannot have (host.fw: [OPTIONS] and [RULES]; guests: no groups)");
  }
  bool repeatable = sec == Sec::ipset || sec == Sec::group;
  if (!repeatable && !seen_.insert(sec).second) error("a second section of the same kind");
  if (rank(sec) < last_rank_)
    error("section out of the writer's order ([OPTIONS], [ALIASES], [IPSET], [RULES], [group]): objects must be defined before use");
  last_rank_ = std::max(last_rank_, rank(sec));
  if (sec == Sec::options) file().has_options = true;
  sec_ = sec;
}

void Reader::option(std::string_view line) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return error("expected 'key: value' in [OPTIONS]");
  auto key = line.substr(0, colon);
  auto rest = line.substr(colon + 1);
  if (rest.size() < 2 || rest[0] != ' ' || is_space(rest[1]))
    return error("expected exactly one space after '" + std::string(key) + ":'");
  auto value = rest.substr(1);
  const auto& rules = option_rules(kind());
  auto it = std::find_if(rules.begin(), rules.end(), [&](const OptionRule& r) { return r.key == key; });
  if (it == rules.end()) return error("unknown option '" + std::string(key) + "' for this file (Perl: can't parse option)");
  if (!it->valid(value))
    return error("option " + std::string(key) + ": '" + std::string(value) + "' is not " + std::string(it->expected));
  if (!file().options.emplace(std::string(key), std::string(value)).second)
    error("duplicate option '" + std::string(key) + "' (Rust refuses the file)");
}

void Reader::alias(std::string_view line) {
  auto body = trim(line.substr(0, line.find('#')));
  auto space = body.find_first_of(" \t");
  if (space == std::string_view::npos) return error("expected 'name cidr' in [ALIASES]");
  auto name = body.substr(0, space);
  auto cidr_text = body.substr(space + 1);
  if (cidr_text.empty() || is_space(cidr_text[0]) || cidr_text.find_first_of(" \t") != std::string_view::npos)
    return error("expected exactly one space between an alias name and its address");
  std::string scope = kind() == FwKind::cluster ? "dc/" : "guest/";
  if (!is_object_name(name)) return error("invalid alias name '" + std::string(name) + "'");
  if (lower(name) != name) return error("alias name '" + std::string(name) + "' is not lower-case");
  if (scope.size() + name.size() > kMaxAliasRef) return error("alias name '" + std::string(name) + "' too long");
  auto parsed = parse_cidr(cidr_text);
  if (!parsed.cidr) {
    if (parsed.canonical) return error("non-canonical address '" + std::string(cidr_text) + "': write " + parsed.canonical->str(true));
    return error("invalid address '" + std::string(cidr_text) + "': " + parsed.error);
  }
  if (!file().aliases.emplace(std::string(name), *parsed.cidr).second) error("duplicate alias '" + std::string(name) + "'");
}

void Reader::ipset_entry(std::string_view line) {
  auto body = trim(line.substr(0, line.find('#')));
  FwIpsetEntry entry;
  entry.line = line_;
  if (!body.empty() && body[0] == '!') {
    entry.nomatch = true;
    body = trim(body.substr(1));
  }
  if (body.empty() || body.find_first_of(" \t") != std::string_view::npos) return error("expected one address or alias per ipset entry");
  std::string value(body);
  if (!ipset_seen_.insert(lower(value)).second) return error("duplicate ipset entry '" + value + "'");
  auto slash = value.find('/');
  bool alias_like = slash != std::string::npos && is_object_name(value.substr(slash + 1)) &&
                    (value.substr(0, slash) == "dc" || value.substr(0, slash) == "guest");
  if (alias_like) {
    auto address = alias_address(value.substr(0, slash), lower(value.substr(slash + 1)));
    if (!address) return;
    entry.cidr = *address;
  } else if (is_object_name(value)) {
    return error("unscoped alias '" + value + "' in an ipset: Rust needs dc/ or guest/");
  } else {
    auto parsed = parse_cidr(value);
    if (!parsed.cidr) {
      if (parsed.canonical) return error("non-canonical address '" + value + "': write " + parsed.canonical->str(true));
      return error("invalid address '" + value + "': " + parsed.error);
    }
    if (parsed.cidr->prefix == 0) return error("a /0 entry: Proxmox refuses a zero prefix in an ipset");
    entry.cidr = *parsed.cidr;
  }
  file().ipsets[current_].push_back(entry);
}

void Reader::rule(std::string_view line) {
  auto hash = line.find('#');
  FwRule r;
  r.line = line_;
  if (hash != std::string_view::npos) {
    if (line.find('#', hash + 1) != std::string_view::npos)
      return error("a second '#' in a rule: Perl cuts the comment at the first, Rust at the last");
    if (hash + 1 == line.size()) return error("an empty comment after '#' (Rust reads the '#' as part of the rule)");
    r.comment = std::string(trim(line.substr(hash + 1)));
    line = trim(line.substr(0, hash));
  }
  if (!line.empty() && line[0] == '|') {
    r.enabled = false;
    line.remove_prefix(1);
    if (line.empty() || is_space(line[0])) return error("a space after the '|' that disables a rule (Perl cannot read it)");
  }
  auto type_end = line.find_first_of(" \t");
  if (type_end == std::string_view::npos) return error("expected a rule type and an action");
  auto type = line.substr(0, type_end);
  auto rest = trim(line.substr(type_end));
  auto action_end = rest.find_first_of(" \t");
  auto action = rest.substr(0, action_end);
  rest = action_end == std::string_view::npos ? std::string_view() : trim(rest.substr(action_end));
  std::map<std::string, std::string> opts;
  if (!rule_options(rest, opts)) return;
  r.action = std::string(action);
  if (type == "GROUP") {
    r.type = "group";
    group_rule(r, opts);
  } else if (lower(type) == "group") {
    return error("'" + std::string(type) + "': Rust reads only upper-case GROUP");
  } else if (lower(type) == "in" || lower(type) == "out" || lower(type) == "forward") {
    r.type = lower(type);
    match_rule(r, opts);
  } else {
    return error("unknown rule type '" + std::string(type) + "'");
  }
}

bool Reader::rule_options(std::string_view rest, std::map<std::string, std::string>& opts) {
  int last = -1;
  while (!rest.empty()) {
    auto end = rest.find_first_of(" \t");
    auto spelling = rest.substr(0, end);
    auto known = std::find_if(std::begin(kOptionNames), std::end(kOptionNames),
                              [&](const OptionName& o) { return o.spelling == spelling; });
    if (known == std::end(kOptionNames)) {
      error("unknown rule option '" + std::string(spelling) + "' (Perl drops the rule)");
      return false;
    }
    if (end == std::string_view::npos || rest[end] != ' ' || end + 1 >= rest.size() || is_space(rest[end + 1])) {
      error("expected exactly one space between " + std::string(spelling) + " and its value");
      return false;
    }
    rest.remove_prefix(end + 1);
    auto value_end = rest.find_first_of(" \t");
    std::string value(rest.substr(0, value_end));
    rest = value_end == std::string_view::npos ? std::string_view() : trim(rest.substr(value_end));
    if (!opts.emplace(std::string(known->key), value).second) {
      error("option " + std::string(spelling) + " given twice (Rust refuses the file)");
      return false;
    }
    if (known->rank < last) error("rule options out of the writer's order (-i -source -dest -p -dport -sport -log -icmp-type)");
    last = std::max(last, known->rank);
  }
  return true;
}

void Reader::group_rule(FwRule& r, const std::map<std::string, std::string>& opts) {
  if (sec_ == Sec::group) return error("a GROUP rule inside a [group] (groups do not nest)");
  if (!is_object_name(r.action) || r.action.size() > kMaxGroupName) return error("invalid security group name '" + r.action + "'");
  if (lower(r.action) != r.action) return error("security group name '" + r.action + "' is not lower-case");
  for (const auto& [key, value] : opts)
    if (key != "i") return error("a GROUP rule takes only -i");
  if (opts.count("i")) {
    r.iface = opts.at("i");
    bool ok = kind() == FwKind::guest ? is_guest_iface(r.iface) : is_host_iface(r.iface);
    if (!ok) return error("invalid interface '" + r.iface + "'");
  }
  if (kind() == FwKind::cluster) {
    group_refs_.emplace_back(line_, r.action);
  } else if (!cluster_ || !cluster_->groups.count(r.action)) {
    return error("no such security group '" + r.action + "' in cluster.fw");
  }
  auto& list = sec_ == Sec::group ? file().groups[current_] : file().rules;
  list.push_back(r);
}

void Reader::match_rule(FwRule& r, const std::map<std::string, std::string>& opts) {
  if (r.action.find('(') != std::string::npos) return error("macro '" + r.action + "': netpolc's reader does not expand macros");
  if (!is_policy(r.action)) return error("unknown action '" + r.action + "' (Perl: ACCEPT, DROP or REJECT, case-sensitive)");
  if (r.type == "forward" && kind() == FwKind::guest) return error("FORWARD rules are not allowed in a guest file");
  if (r.type == "forward" && r.action == "REJECT") return error("FORWARD ... REJECT is invalid");
  auto get = [&](const char* k) { return opts.count(k) ? opts.at(k) : std::string(); };
  r.iface = get("i");
  if (!r.iface.empty()) {
    if (sec_ == Sec::group) return error("-i inside a [group]");
    bool ok = kind() == FwKind::guest ? is_guest_iface(r.iface) : is_host_iface(r.iface);
    if (!ok) return error("invalid interface '" + r.iface + "'");
  }
  r.log = get("log");
  if (!r.log.empty() && !is_log_level(r.log)) return error("invalid log level '" + r.log + "'");
  std::string raw_proto = get("p");
  if (!raw_proto.empty()) {
    auto p = protocol(raw_proto);
    if (!p) return error("unknown protocol '" + raw_proto + "'");
    r.proto = *p;
  }
  check_ports(r, opts);
  r.icmp_type = get("icmp-type");
  check_icmp_type(r, raw_proto);
  if (opts.count("source")) r.source = address(opts.at("source"), "-source");
  if (opts.count("dest")) r.dest = address(opts.at("dest"), "-dest");
  check_families(r);
  auto& list = sec_ == Sec::group ? file().groups[current_] : file().rules;
  list.push_back(r);
}

void Reader::check_ports(FwRule& r, const std::map<std::string, std::string>& opts) {
  for (const char* key : {"dport", "sport"}) {
    if (!opts.count(key)) continue;
    std::string option = std::string("-") + key;
    if (r.proto.empty()) {
      error(option + " without -p");
      continue;
    }
    if (!has_ports(r.proto)) {
      error("protocol '" + r.proto + "' has no ports for " + option);
      continue;
    }
    auto list = port_list(opts.at(key), option);
    if (list) (std::string(key) == "dport" ? r.dports : r.sports) = *list;
  }
}

void Reader::check_icmp_type(const FwRule& r, const std::string& raw_proto) {
  if (r.icmp_type.empty()) return;
  if (raw_proto != "icmp" && raw_proto != "icmpv6" && raw_proto != "ipv6-icmp")
    return error("-icmp-type needs -p icmp, icmpv6 or ipv6-icmp");
  if (!r.dports.empty()) return error("-icmp-type together with -dport");
  bool v4 = raw_proto == "icmp";
  bool known = v4 ? (r.icmp_type == "any" || icmp_v4_type(r.icmp_type) || icmp_code_known(r.icmp_type, Family::v4))
                  : (icmp_v6_type_known(r.icmp_type) || icmp_code_known(r.icmp_type, Family::v6));
  if (!known)
    error("icmp type '" + r.icmp_type + "' is not a name both Proxmox firewalls accept for " + raw_proto +
          " (numbers are refused)");
}

void Reader::check_families(const FwRule& r) {
  std::set<Family> pins;
  if (r.source.family) pins.insert(*r.source.family);
  if (r.dest.family) pins.insert(*r.dest.family);
  if (r.proto == "icmp") pins.insert(Family::v4);
  if (r.proto == "icmpv6") pins.insert(Family::v6);
  if (pins.size() > 1) error("the rule mixes IPv4 and IPv6 (source, destination and protocol must agree)");
}

std::optional<std::vector<ir::PortRange>> Reader::port_list(const std::string& spec, const std::string& option) {
  std::vector<ir::PortRange> out;
  int numbers = 0;
  for (auto item : split(spec, ',')) {
    auto colon = item.find(':');
    auto first = item.substr(0, colon);
    auto last = colon == std::string_view::npos ? first : item.substr(colon + 1);
    if (item.empty()) {
      error(option + " '" + spec + "': an empty element");
      return std::nullopt;
    }
    if (!is_uint(first) || !is_uint(last)) {
      error(option + " '" + spec + "': '" + std::string(item) + "' is not a port or N:M range (service names are not read)");
      return std::nullopt;
    }
    if (first.size() > 5 || last.size() > 5 || std::stoul(std::string(first)) > 65535 || std::stoul(std::string(last)) > 65535) {
      error(option + " '" + spec + "': a port over 65535");
      return std::nullopt;
    }
    auto a = static_cast<std::uint16_t>(std::stoul(std::string(first)));
    auto b = static_cast<std::uint16_t>(std::stoul(std::string(last)));
    if (a > b) {
      error(option + " '" + spec + "': a backwards range");
      return std::nullopt;
    }
    numbers += colon == std::string_view::npos ? 1 : 2;
    out.push_back({a, b});
  }
  if (numbers > kMaxPortNumbers) {
    error(option + " '" + spec + "': " + std::to_string(numbers) + " numbers, more than 15 (a range counts 2)");
    return std::nullopt;
  }
  return out;
}

FwAddress Reader::address(const std::string& value, const std::string& option) {
  FwAddress out;
  if (value[0] == '+') {
    if (value.size() > kMaxIpsetRef) error(option + " '" + value + "': ipset reference longer than 65 characters");
    reference(value.substr(1), true, out, option);
    return out;
  }
  auto slash = value.find('/');
  bool scoped_name = slash != std::string::npos && is_object_name(value.substr(slash + 1)) && is_alpha(value[0]);
  if (is_object_name(value) || scoped_name) {
    if (value.size() > kMaxAliasRef) error(option + " '" + value + "': alias reference longer than 64 characters");
    reference(value, false, out, option);
    return out;
  }
  address_list(value, out, option);
  return out;
}

// "dc/name" or "guest/name" (an ipset's without its '+'), resolved where it is defined.
bool Reader::reference(const std::string& value, bool ipset, FwAddress& out, const std::string& option) {
  const char* what = ipset ? "ipset" : "alias";
  auto slash = value.find('/');
  if (slash == std::string::npos) {
    error(option + ": unscoped " + what + " reference '" + value + "': Rust needs dc/ or guest/");
    return false;
  }
  out.scope = value.substr(0, slash);
  out.name = lower(value.substr(slash + 1));
  if (!is_object_name(out.name)) {
    error(option + ": invalid " + what + " name '" + value + "'");
    return false;
  }
  if (out.scope == "sdn" && ipset) {
    error(option + ": +sdn/ ipsets come from Proxmox SDN, which this reader does not model");
    return false;
  }
  if (out.scope != "dc" && out.scope != "guest") {
    error(option + ": unknown scope '" + out.scope + "/'");
    return false;
  }
  if (!ipset) {
    auto address = alias_address(out.scope, out.name);
    if (!address) return false;
    out.kind = FwAddress::Kind::alias;
    out.networks = {*address};
    out.family = address->family;
    return true;
  }
  out.kind = FwAddress::Kind::ipset;
  if (out.scope == "guest" && kind() != FwKind::guest) {
    error(option + ": +guest/ outside a guest file");
    return false;
  }
  if (!find_ipset(out, file(), cluster_)) {
    error(option + ": no such ipset '" + value + "' (objects must be defined before they are used)");
    return false;
  }
  return true;
}

std::optional<Cidr> Reader::alias_address(const std::string& scope, const std::string& name) {
  if (scope == "guest" && kind() != FwKind::guest) {
    error("guest/" + name + " outside a guest file");
    return std::nullopt;
  }
  const FwFile* where = scope == "guest" || kind() == FwKind::cluster ? &file() : cluster_;
  if (where) {
    auto it = where->aliases.find(name);
    if (it != where->aliases.end()) return it->second;
  }
  error("no such alias '" + scope + "/" + name + "' (objects must be defined before they are used)");
  return std::nullopt;
}

void Reader::address_list(const std::string& value, FwAddress& out, const std::string& option) {
  auto items = split(value, ',');
  for (auto item : items) {
    if (item.empty()) return error(option + " '" + value + "': an empty element");
    auto dash = item.find('-');
    if (dash != std::string_view::npos) {
      if (items.size() > 1) return error(option + " '" + value + "': a range inside a list");
      auto a = parse_cidr(item.substr(0, dash)), b = parse_cidr(item.substr(dash + 1));
      if (!a.cidr || !b.cidr || !a.cidr->is_host() || !b.cidr->is_host() || a.cidr->family != b.cidr->family ||
          *b.cidr < *a.cidr)
        return error(option + " '" + value + "': not a range of addresses of one family");
      out.networks = range_networks(*a.cidr, *b.cidr);
      out.family = a.cidr->family;
      out.kind = FwAddress::Kind::list;
      return;
    }
    auto parsed = parse_cidr(item);
    if (!parsed.cidr) {
      if (parsed.canonical)
        return error(option + ": non-canonical address '" + std::string(item) + "': write " + parsed.canonical->str(true));
      return error(option + ": invalid address '" + std::string(item) + "': " + parsed.error);
    }
    if (out.family && *out.family != parsed.cidr->family) return error(option + " '" + value + "' mixes IPv4 and IPv6");
    out.family = parsed.cidr->family;
    out.networks.push_back(*parsed.cidr);
  }
  out.kind = FwAddress::Kind::list;
}

void Reader::check_group_refs() {
  for (const auto& [line, name] : group_refs_) {
    if (file().groups.count(name)) continue;
    line_ = line;
    error("no such security group '" + name + "'");
  }
}

}  // namespace

const std::vector<FwIpsetEntry>* find_ipset(const FwAddress& ref, const FwFile& file, const FwFile* cluster) {
  const FwFile* where = ref.scope == "guest" || file.kind == FwKind::cluster ? &file : cluster;
  if (!where) return nullptr;
  auto it = where->ipsets.find(ref.name);
  return it == where->ipsets.end() ? nullptr : &it->second;
}

FwRead read_fw(std::string_view text, FwKind kind, const std::string& path, const FwFile* cluster) {
  return Reader(kind, path, cluster).run(text);
}

}  // namespace netpol::proxmox
