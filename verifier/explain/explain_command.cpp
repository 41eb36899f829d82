#include "explain_command.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "diagnostics.h"
#include "icmp_types.h"
#include "matrix.h"

namespace netpol {

namespace {

using ir::Endpoint;

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::optional<std::uint32_t> number(const std::string& s, std::uint32_t max) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  std::uint32_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(ch - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

std::optional<ir::Proto> proto_of(const std::string& s) {
  if (s == "tcp") return ir::Proto::tcp;
  if (s == "udp") return ir::Proto::udp;
  if (s == "icmp") return ir::Proto::icmp;
  return std::nullopt;
}

// Is zone `z` the zone `ancestor` or nested in it?
bool zone_within(const ir::Policy& p, int z, int ancestor) {
  for (std::optional<int> cur = z; cur; cur = p.zones[static_cast<std::size_t>(*cur)].parent)
    if (*cur == ancestor) return true;
  return false;
}

// Does endpoint `e` lie inside endpoint `within` (a host in a zone, a zone in a zone, the same)?
bool endpoint_within(const ir::Policy& p, const Endpoint& e, const Endpoint& within) {
  if (e == within) return true;
  if (within.kind != Endpoint::Kind::zone) return false;
  int z = e.kind == Endpoint::Kind::zone ? e.id : p.hosts[static_cast<std::size_t>(e.id)].zone;
  return z >= 0 && zone_within(p, z, within.id);
}

std::string describe(const ir::Policy& p, const ExplainEnd& end) {
  std::string out;
  if (end.address) out = end.address->str(true) + " = ";
  if (end.endpoint.kind == Endpoint::Kind::host) {
    const auto& h = p.hosts[static_cast<std::size_t>(end.endpoint.id)];
    out += "host " + h.name + " (" + h.location.where();
    for (const auto& a : h.addresses) out += ", " + a.str(true);
    out += ")";
  } else {
    const auto& z = p.zones[static_cast<std::size_t>(end.endpoint.id)];
    out += "zone " + z.name + " (" + z.location.where() + "; its addresses other than its hosts)";
  }
  return out;
}

std::optional<std::string> host_name(const ir::Policy& p, const Endpoint& e) {
  if (e.kind != Endpoint::Kind::host) return std::nullopt;
  return p.hosts[static_cast<std::size_t>(e.id)].name;
}

// The word after `key` (up to a space), or empty.
std::string token_after(const std::string& line, const std::string& key) {
  auto at = line.find(key);
  if (at == std::string::npos) return {};
  auto begin = at + key.size();
  auto end = line.find(' ', begin);
  return line.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// The text between quotes after `key` ("from '" -> the address), or empty.
std::string quoted_after(const std::string& line, const std::string& key) {
  auto at = line.find(key);
  if (at == std::string::npos) return {};
  auto begin = at + key.size();
  auto end = line.find('\'', begin);
  if (end == std::string::npos) return {};
  return line.substr(begin, end - begin);
}

// "80,443", "1:65535", "5900:5999,22": does it hold `port`?
bool port_list_holds(const std::string& list, std::uint16_t port) {
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto colon = item.find(':');
    auto first = number(item.substr(0, colon), 65535);
    auto last = colon == std::string::npos ? first : number(item.substr(colon + 1), 65535);
    if (first && last && *first <= port && port <= *last) return true;
  }
  return false;
}

bool proto_matches(const std::string& emitted, const ExplainPort& q) {
  if (emitted.empty()) return true;  // every protocol
  if (q.proto == ir::Proto::icmp) return emitted == "icmp" || emitted == "ipv6-icmp" || emitted == "icmpv6";
  return emitted == ir::to_string(q.proto);
}

// Does the line name `tag` ("flows.npol:47") as a whole (not "flows.npol:470")?
bool names_tag(const std::string& line, const std::string& tag) {
  for (auto at = line.find(tag); at != std::string::npos; at = line.find(tag, at + 1)) {
    auto next = at + tag.size();
    if (next == line.size() || !std::isdigit(static_cast<unsigned char>(line[next]))) return true;
  }
  return false;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) lines.push_back(line);
  return lines;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// An explicit address of the question against an emitted address ("192.168.1.0/28"): false only when
// both are known and the emitted one does not hold the asked one.
bool address_fits(const std::optional<Cidr>& asked, const std::string& emitted) {
  if (!asked || emitted.empty() || emitted == "any") return true;
  auto parsed = parse_cidr(emitted);
  if (!parsed.cidr) return true;
  return parsed.cidr->family == asked->family && parsed.cidr->contains(*asked);
}

struct Finder {
  const ir::Policy& p;
  const Explanation& q;
  std::vector<EmittedLine>& found;

  // proxmox/*.fw: the rule lines of the group (or node) that enforces the flow.
  void fw(const std::string& path, const std::vector<std::string>& lines, const std::string& tag) {
    auto src_host = host_name(p, q.source.endpoint);
    auto dst_host = host_name(p, q.destination.endpoint);
    std::string file = path.substr(path.rfind('/') + 1);
    std::optional<std::string> owner;  // the host whose rules follow
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const auto& line = lines[i];
      if (starts_with(line, "[group ")) {
        owner = line.substr(7, line.find(']') - 7);
        continue;
      }
      if (starts_with(line, "[RULES]")) {
        owner.reset();
        for (const auto& h : p.hosts) {
          if ((file == "host.fw" && h.is_node) || (h.vmid && file == std::to_string(*h.vmid) + ".fw")) owner = h.name;
        }
        continue;
      }
      if (starts_with(line, "[")) {
        owner.reset();
        continue;
      }
      if (!names_tag(line, tag)) continue;
      std::string dir = line.substr(0, line.find(' '));
      if (dir == "IN" && (!owner || owner != dst_host)) continue;
      if (dir == "OUT" && (!owner || owner != src_host)) continue;
      if (dir != "IN" && dir != "OUT") continue;
      if (!proto_matches(token_after(line, " -p "), q.port)) continue;
      if (q.port.proto == ir::Proto::icmp) {
        auto type = token_after(line, " -icmp-type ");
        auto name = icmp_type_name(q.port.port);
        if (!type.empty() && (!name || type != *name)) continue;
      } else if (auto ports = token_after(line, " -dport "); !ports.empty() && !port_list_holds(ports, q.port.port)) {
        continue;
      }
      found.push_back({path, static_cast<int>(i + 1), line});
    }
  }

  // ufw/HOST.sh: the `ufw ... comment '...'` lines of the host at either end.
  void ufw(const std::string& path, const std::vector<std::string>& lines, const std::string& tag) {
    auto slash = path.rfind('/');
    std::string owner = path.substr(slash + 1, path.size() - slash - 1 - 3);
    bool is_src = host_name(p, q.source.endpoint) == owner;
    bool is_dst = host_name(p, q.destination.endpoint) == owner;
    if (!is_src && !is_dst) return;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      auto line = trim(lines[i]);
      if (!starts_with(line, "ufw ") || !names_tag(line, tag)) continue;
      std::string rest = line.substr(4);
      if (starts_with(rest, "route ")) {
        // forwarded traffic: no direction to check against the host
      } else {
        auto dir = token_after(rest, " ");  // allow|deny|reject|limit, then in|out
        if (dir == "in" && !is_dst) continue;
        if (dir == "out" && !is_src) continue;
      }
      auto proto = quoted_after(line, "proto '");
      if (!proto_matches(proto, q.port)) continue;
      if (q.port.proto != ir::Proto::icmp) {
        auto ports = quoted_after(line, "port '");
        if (!ports.empty() && !port_list_holds(ports, q.port.port)) continue;
      }
      if (!address_fits(q.source.address, quoted_after(line, "from '"))) continue;
      if (!address_fits(q.destination.address, quoted_after(line, " to '"))) continue;
      found.push_back({path, static_cast<int>(i + 1), line});
    }
  }

  // npm/proxy-hosts.json: the proxy host of a published name, summarized on the line of its domain.
  void npm(const std::string& path, const std::string& text, const std::vector<std::string>& lines,
           const std::string& domain) {
    int at = 0;
    for (std::size_t i = 0; i < lines.size(); ++i)
      if (lines[i].find("\"" + domain + "\"") != std::string::npos) {
        at = static_cast<int>(i + 1);
        break;
      }
    if (at == 0) return;
    std::string summary = "proxy host " + domain;
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_array()) {
      for (const auto& host : json) {
        auto names = host.value("domain_names", nlohmann::json::array());
        if (std::find(names.begin(), names.end(), domain) == names.end()) continue;
        summary += " -> " + host.value("forward_scheme", std::string("http")) + "://" +
                   host.value("forward_host", std::string("?")) + ":" +
                   std::to_string(host.value("forward_port", 0));
        if (host.value("ssl_forced", false)) summary += ", ssl forced";
        if (host.value("allow_websocket_upgrade", false)) summary += ", websocket";
        if (host.contains("meta") && host["meta"].contains("netpol") && host["meta"]["netpol"].contains("access_list"))
          summary += ", access list " + host["meta"]["netpol"]["access_list"].get<std::string>();
      }
    }
    found.push_back({path, at, summary});
  }

  // nginx/DOMAIN.conf: its server_name line.
  void nginx(const std::string& path, const std::vector<std::string>& lines, const std::string& domain) {
    for (std::size_t i = 0; i < lines.size(); ++i)
      if (trim(lines[i]) == "server_name " + domain + ";") {
        found.push_back({path, static_cast<int>(i + 1), trim(lines[i])});
        return;
      }
  }

  // openvpn/*.conf of `vpn`: the pushed routes covering the destination, or the listening port.
  void openvpn(const std::string& path, const std::vector<std::string>& lines, const ir::Vpn& vpn, bool routes,
               bool listen) {
    const auto& dst = q.destination.endpoint;
    std::vector<Cidr> nets;
    if (q.destination.address) {
      nets.push_back(*q.destination.address);
    } else if (dst.kind == Endpoint::Kind::host) {
      nets = p.hosts[static_cast<std::size_t>(dst.id)].addresses;
    } else {
      nets = p.zones[static_cast<std::size_t>(dst.id)].networks;
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
      auto line = trim(lines[i]);
      if (listen && (starts_with(line, "port ") || starts_with(line, "proto "))) {
        found.push_back({path, static_cast<int>(i + 1), line});
        continue;
      }
      if (!routes || !starts_with(line, "push \"route")) continue;
      std::optional<Cidr> net;
      if (starts_with(line, "push \"route-ipv6 ")) {
        auto spec = line.substr(17);
        spec = spec.substr(0, spec.find_first_of(" \""));
        net = parse_cidr(spec).cidr;
      } else {
        std::stringstream ss(line.substr(12));
        std::string addr, mask;
        ss >> addr >> mask;
        if (!mask.empty() && mask.back() == '"') mask.pop_back();
        auto m = parse_cidr(mask);
        if (m.cidr && m.cidr->family == Family::v4) {
          int prefix = 0;
          for (int b = 0; b < 4; ++b)
            for (int bit = 7; bit >= 0; --bit) prefix += (m.cidr->bytes[static_cast<std::size_t>(b)] >> bit) & 1;
          net = parse_cidr(addr + "/" + std::to_string(prefix)).cidr;
        }
      }
      if (!net) continue;
      bool covers = std::any_of(nets.begin(), nets.end(), [&](const Cidr& n) { return net->overlaps(n); });
      (void)vpn;
      if (covers) found.push_back({path, static_cast<int>(i + 1), line});
    }
  }
};

}  // namespace

EndResolution resolve_explain_end(const ir::Policy& policy, const std::string& text) {
  EndResolution r;
  if (auto h = policy.find_host(text)) {
    r.end = ExplainEnd{{Endpoint::Kind::host, *h}, std::nullopt};
    return r;
  }
  if (auto z = policy.find_zone(text)) {
    r.end = ExplainEnd{{Endpoint::Kind::zone, *z}, std::nullopt};
    return r;
  }
  auto parsed = parse_cidr(text);
  std::optional<Cidr> addr = parsed.cidr ? parsed.cidr : parsed.canonical;
  if (!addr) {
    std::vector<std::string> names;
    for (const auto& z : policy.zones) names.push_back(z.name);
    for (const auto& h : policy.hosts) names.push_back(h.name);
    r.error = "'" + text + "' is neither a zone, a host nor an address of the policy";
    r.suggestion = closest_name(text, names);
    return r;
  }
  if (addr->is_host()) {
    for (std::size_t i = 0; i < policy.hosts.size(); ++i)
      for (const auto& a : policy.hosts[i].addresses)
        if (a == *addr) {
          r.end = ExplainEnd{{Endpoint::Kind::host, static_cast<int>(i)}, addr};
          return r;
        }
  }
  int best = -1;
  int best_prefix = -1;
  for (std::size_t i = 0; i < policy.zones.size(); ++i)
    for (const auto& n : policy.zones[i].networks)
      if (n.contains(*addr) && n.prefix > best_prefix) {
        best = static_cast<int>(i);
        best_prefix = n.prefix;
      }
  if (best < 0) {
    r.error = "no zone of the policy holds " + addr->str(true);
    return r;
  }
  r.end = ExplainEnd{{Endpoint::Kind::zone, best}, addr};
  return r;
}

std::optional<ExplainPort> parse_explain_port(const std::string& raw) {
  auto text = lower(raw);
  auto slash = text.find('/');
  std::string a = text.substr(0, slash);
  std::string b = slash == std::string::npos ? std::string() : text.substr(slash + 1);
  if (slash != std::string::npos && b.find('/') != std::string::npos) return std::nullopt;
  // one side names the protocol: "tcp/443" or "443/tcp"
  if (!proto_of(a) && proto_of(b)) std::swap(a, b);
  auto proto = proto_of(a);
  if (!proto) return std::nullopt;
  ExplainPort out{*proto, 0};
  if (*proto == ir::Proto::icmp) {
    if (b.empty()) {
      out.port = 8;  // echo-request: what `ping` sends
    } else if (auto n = icmp_type_number(b)) {
      out.port = *n;
    } else if (auto v = number(b, kIcmpTypeMax)) {
      out.port = static_cast<std::uint16_t>(*v);
    } else {
      return std::nullopt;
    }
    return out;
  }
  auto v = number(b, 65535);
  if (!v || *v == 0) return std::nullopt;
  out.port = static_cast<std::uint16_t>(*v);
  return out;
}

Explanation explain_flow(const ir::Policy& policy, const OutputSet& outputs, const ExplainEnd& source,
                         const ExplainEnd& destination, const ExplainPort& port) {
  Explanation ex{source, destination, port, false, -1, {}};
  Matrix matrix(policy);
  auto verdict = matrix.decide(source.endpoint, destination.endpoint, port.proto, port.port);
  ex.allowed = verdict.allowed;
  ex.rule = verdict.rule;

  Finder finder{policy, ex, ex.emitted};
  const ir::Rule* rule = ex.rule >= 0 ? &policy.rules[static_cast<std::size_t>(ex.rule)] : nullptr;
  std::string tag = rule ? rule->location.where() : std::string();
  std::string domain;
  if (rule && rule->origin == ir::Origin::publish && rule->origin_index >= 0)
    domain = policy.publishes[static_cast<std::size_t>(rule->origin_index)].domain;

  for (const auto& [path, text] : outputs) {
    auto lines = split_lines(text);
    if (rule && starts_with(path, "proxmox/") && ends_with(path, ".fw")) finder.fw(path, lines, tag);
    if (rule && starts_with(path, "ufw/") && ends_with(path, ".sh")) finder.ufw(path, lines, tag);
    if (!domain.empty() && path == "npm/proxy-hosts.json") finder.npm(path, text, lines, domain);
    if (!domain.empty() && path == "nginx/" + domain + ".conf") finder.nginx(path, lines, domain);
    if (ex.allowed && starts_with(path, "openvpn/")) {
      for (std::size_t v = 0; v < policy.vpns.size(); ++v) {
        const auto& vpn = policy.vpns[v];
        bool mine = std::any_of(lines.begin(), lines.end(),
                                [&](const std::string& l) { return starts_with(l, "#") && names_tag(l, vpn.location.where()); });
        if (!mine) continue;
        // The route matters only to the VPN's clients; the listening port only to the VPN's own rule.
        bool from_pool = vpn.pool >= 0 && endpoint_within(policy, source.endpoint, {Endpoint::Kind::zone, vpn.pool});
        bool routed = std::any_of(vpn.routes.begin(), vpn.routes.end(),
                                  [&](const Endpoint& r) { return endpoint_within(policy, destination.endpoint, r); });
        bool listen = rule && rule->origin == ir::Origin::vpn && rule->origin_index == static_cast<int>(v);
        if ((from_pool && routed) || listen) finder.openvpn(path, lines, vpn, from_pool && routed, listen);
      }
    }
  }
  return ex;
}

CLI::App* add_explain_command(CLI::App& app, ExplainCommand& options) {
  auto* sub = app.add_subcommand("explain", "Check a policy and explain one flow: the verdict, the rule that decides it "
                                            "and the line each target emitted for it");
  sub->add_option("POLICY", options.policy, "The policy file")->required();
  sub->add_option("SOURCE", options.source, "A zone or host name, or an address")->required();
  sub->add_option("DEST", options.destination, "A zone or host name, or an address")->required();
  sub->add_option("PORT/PROTO", options.service, "443/tcp, tcp/443, udp/53, icmp, icmp/echo-request")->required();
  sub->footer("Exit status: 0 allowed, 1 denied, 2 a name, address or PORT/PROTO that means nothing, "
              "3 the policy has errors.");
  return sub;
}

int run_explain_command(const ExplainCommand& options, Compilation& c, std::ostream& out, std::ostream& err) {
  if (!c.ok()) {
    err << "netpolc: error: " << options.policy << " has errors: nothing to explain\n";
    return kExplainPolicyErrors;
  }
  const auto& policy = c.policy;
  std::optional<ExplainEnd> ends[2];
  const std::string* args[2] = {&options.source, &options.destination};
  for (int i = 0; i < 2; ++i) {
    auto r = resolve_explain_end(policy, *args[i]);
    if (!r.end) {
      err << "netpolc: error: " << (i == 0 ? "source " : "destination ") << r.error;
      if (!r.suggestion.empty()) err << "; did you mean '" << r.suggestion << "'?";
      err << "\n";
      return kExplainUsage;
    }
    ends[i] = r.end;
  }
  auto port = parse_explain_port(options.service);
  if (!port) {
    err << "netpolc: error: '" << options.service
        << "' is not a PORT/PROTO: write 443/tcp, tcp/443, udp/53, icmp or icmp/echo-request\n";
    return kExplainUsage;
  }

  auto outputs = build_outputs(c);
  auto ex = explain_flow(policy, outputs, *ends[0], *ends[1], *port);

  ir::ServicePort sp{port->proto, {port->port, port->port}};
  out << "flow         " << options.source << " -> " << options.destination << " : " << sp.str() << "\n";
  out << "source       " << describe(policy, ex.source) << "\n";
  out << "destination  " << describe(policy, ex.destination) << "\n";
  out << "verdict      " << (ex.allowed ? "allowed" : "denied") << "\n";
  if (ex.rule >= 0) {
    const auto& rule = policy.rules[static_cast<std::size_t>(ex.rule)];
    out << "decided by   " << rule.location.where() << "  " << rule.text << "\n";
  } else {
    out << "decided by   the default deny (no rule of the policy matches this flow)\n";
  }
  if (ex.rule < 0) {
    out << "emitted      nothing: every target denies by default what no rule allows\n";
  } else if (ex.emitted.empty()) {
    out << "emitted      nothing: no target enforces this rule between these ends"
        << " (no managed host at either end)\n";
  } else {
    out << "emitted\n";
    for (const auto& e : ex.emitted) out << "  " << e.file << ":" << e.line << "  " << e.text << "\n";
  }
  return ex.allowed ? kExplainAllowed : kExplainDenied;
}

}  // namespace netpol
