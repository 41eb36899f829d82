// The OpenVPN target: out/openvpn/server.conf and out/openvpn/ccd/<client>
// (out/openvpn/<vpn>/... with several VPNs). See docs/targets/openvpn.md.
#include "openvpn_target.h"

#include <algorithm>

#include "comment.h"
#include "openvpn_codes.h"
#include "openvpn_plan.h"
#include "openvpn_reader.h"

namespace netpol {

namespace {

using openvpn::Server;

// Lines of one file. Every value is checked to be a plain word (formats.md 4.1); a
// pushed option is one double-quoted argument made of plain words. Comments are whole lines.
class Writer {
 public:
  void comment(const std::string& text) { out_ += "# " + safe_comment(text) + "\n"; }
  void option(const std::string& name, const std::vector<std::string>& args = {}) {
    std::string line = checked(name);
    for (const auto& a : args) line += " " + checked(a);
    out_ += line + "\n";
  }
  void push(const std::vector<std::string>& words) {
    std::string inner;
    for (const auto& w : words) inner += (inner.empty() ? "" : " ") + checked(w);
    out_ += "push \"" + inner + "\"\n";
  }
  const std::vector<std::string>& bad() const { return bad_; }
  const std::string& text() const { return out_; }

 private:
  std::string checked(const std::string& value) {
    if (!openvpn::plain_value(value)) bad_.push_back(value);
    return value;
  }
  std::string out_;
  std::vector<std::string> bad_;
};

std::vector<std::string> route_words(const Cidr& net) {
  if (net.family == Family::v6) return {"route-ipv6", net.str()};
  return {"route", net.str(true).substr(0, net.str(true).find('/')), openvpn::v4_netmask(net.prefix)};
}

std::string names(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& n : list) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string vpn_title(const ir::Policy& p, const ir::Vpn& vpn) {
  return "vpn " + vpn.name + " on " + p.hosts[static_cast<std::size_t>(vpn.server)].name + " (" + vpn.location.where() + ")";
}

std::string render_server(const ir::Policy& p, const Server& s, const TargetOptions& o, std::vector<std::string>& bad) {
  const auto& vpn = p.vpns[static_cast<std::size_t>(s.vpn)];
  const auto& pool_zone = p.zones[static_cast<std::size_t>(vpn.pool)];
  Writer w;
  w.comment(provenance(p));
  w.comment(vpn_title(p, vpn) + ": clients get addresses of zone " + pool_zone.name);
  w.comment("OpenVPN only routes: the firewall of the VPN host filters tun0 with the VPN flows of the policy");
  w.option("port", {std::to_string(s.listen.range.first)});
  w.option("proto", {s.listen.proto == ir::Proto::udp ? "udp" : "tcp"});
  w.option("dev", {"tun"});
  w.option("topology", {"subnet"});
  std::string net4 = s.pool4.str(true).substr(0, s.pool4.str(true).find('/'));
  if (s.clients.empty()) {
    w.option("server", {net4, openvpn::v4_netmask(s.pool4.prefix)});
    if (s.pool6) w.option("server-ipv6", {s.pool6->str()});
  } else {
    std::vector<std::string> fixed;
    for (const auto& c : s.clients) fixed.push_back(c.name);
    w.comment("the dynamic pool leaves out the fixed addresses of " + names(fixed));
    w.option("server", {net4, openvpn::v4_netmask(s.pool4.prefix), "nopool"});
    w.option("ifconfig-pool", {openvpn::v4_text(s.dynamic_first), openvpn::v4_text(s.dynamic_last),
                               openvpn::v4_netmask(s.pool4.prefix)});
    if (s.pool6) {  // server-ipv6 refuses nopool (2.6.14): its expansion, with the same pool start
      w.option("ifconfig-ipv6", {openvpn::offset_address(*s.pool6, 1).str(true), openvpn::offset_address(*s.pool6, 2).str(true)});
      w.option("ifconfig-ipv6-pool", {s.dynamic6_base->str(true) + "/" + std::to_string(s.pool6->prefix)});
    }
    w.comment("the fixed address and own routes of each client: ccd/<common name>, read at each connect");
    w.option("client-config-dir", {"ccd"});
  }
  if (!s.routes.empty()) {
    std::vector<std::string> from;
    for (const auto& r : vpn.routes)
      if (std::find(from.begin(), from.end(), p.name_of(r)) == from.end()) from.push_back(p.name_of(r));
    w.comment("routes pushed to every client: route " + names(from));
    for (const auto& r : s.routes) w.push(route_words(r));
  }
  for (const auto& u : s.unrouted) w.comment("not pushed: " + u);
  if (s.client_to_client) {
    w.comment("the policy allows clients every service to each other: OpenVPN switches it");
    w.option("client-to-client");
  } else if (s.pool_to_pool_partly) {
    w.comment("no client-to-client: the policy allows clients only some services to each other,");
    w.comment("so their traffic goes through the kernel, where the firewall of the host filters tun0 to tun0");
  } else {
    w.comment("no client-to-client: the policy does not let clients reach each other");
  }
  w.option("keepalive", {"10", "60"});
  if (s.listen.proto == ir::Proto::udp) w.option("explicit-exit-notify", {"1"});
  w.option("persist-key");
  w.option("persist-tun");
  w.option("user", {"nobody"});
  w.option("group", {"nogroup"});
  w.comment("certificates: netpolc compile --openvpn-ca, --openvpn-cert, --openvpn-key, --openvpn-tls-crypt");
  w.option("ca", {o.openvpn_ca});
  w.option("cert", {o.openvpn_cert});
  w.option("key", {o.openvpn_key});
  w.option("tls-crypt", {o.openvpn_tls_crypt});
  w.option("dh", {"none"});
  bad.insert(bad.end(), w.bad().begin(), w.bad().end());
  return w.text();
}

std::string render_client(const ir::Policy& p, const Server& s, const openvpn::Client& c, std::vector<std::string>& bad) {
  const auto& vpn = p.vpns[static_cast<std::size_t>(s.vpn)];
  const auto& host = p.hosts[static_cast<std::size_t>(c.host)];
  Writer w;
  w.comment(provenance(p));
  w.comment("client " + c.name + " (" + host.location.where() + ") of " + vpn_title(p, vpn));
  w.comment("the file name is the common name of the client certificate");
  w.option("ifconfig-push", {c.v4.str(true), openvpn::v4_netmask(s.pool4.prefix)});
  if (c.v6)
    w.option("ifconfig-ipv6-push", {c.v6->str(true) + "/" + std::to_string(s.pool6->prefix),
                                    openvpn::offset_address(*s.pool6, 1).str(true)});
  if (!c.routes.empty()) {
    std::vector<std::string> rules;
    for (int r : c.route_rules) rules.push_back(p.rules[static_cast<std::size_t>(r)].location.where());
    w.comment("routes for " + c.name + " only, beyond those of the server: " + names(rules));
    for (const auto& r : c.routes) w.push(route_words(r));
  }
  for (const auto& u : c.unrouted) w.comment("not pushed: " + u);
  bad.insert(bad.end(), w.bad().begin(), w.bad().end());
  return w.text();
}

}  // namespace

void emit_openvpn(const ir::Policy& policy, const TargetOptions& options, OutputSet& out, Diagnostics& diags) {
  auto servers = openvpn::plan_servers(policy, diags);
  for (const auto& s : servers) {
    const auto& vpn = policy.vpns[static_cast<std::size_t>(s.vpn)];
    bool ok = true;
    const std::pair<const char*, const std::string*> paths[] = {{"--openvpn-ca", &options.openvpn_ca},
                                                                {"--openvpn-cert", &options.openvpn_cert},
                                                                {"--openvpn-key", &options.openvpn_key},
                                                                {"--openvpn-tls-crypt", &options.openvpn_tls_crypt}};
    for (const auto& [flag, path] : paths) {
      if (openvpn::plain_value(*path)) continue;
      auto& d = diags.error(openvpn::code::kUnsafeValue, vpn.location.span,
                            std::string("the path given with ") + flag + " ('" + safe_comment(*path) +
                                "') cannot be written into server.conf");
      d.hints.push_back("use a path of printable characters without blanks, '#', ';', quotes or backslashes");
      ok = false;
    }
    if (!ok) continue;
    std::vector<std::string> bad;
    OutputSet files;
    files[s.dir + "/server.conf"] = render_server(policy, s, options, bad);
    for (const auto& c : s.clients) files[s.dir + "/ccd/" + c.name] = render_client(policy, s, c, bad);
    if (!bad.empty()) {  // values come from the IR and are canonical: this is a bug guard
      diags.error(openvpn::code::kUnsafeValue, vpn.location.span,
                  "vpn '" + vpn.name + "': the value '" + safe_comment(bad.front()) + "' cannot be written into OpenVPN's files");
      continue;
    }
    out.insert(files.begin(), files.end());
  }
}

}  // namespace netpol
