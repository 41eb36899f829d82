// Rules, VPNs and published names become IR rules, in policy order.
#include <algorithm>
#include <regex>

#include "diagnostic_codes.h"
#include "resolve.h"
#include "resolver.h"

namespace netpol::resolver {

namespace {
const std::regex kDomainLabel("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$");
}  // namespace

void Resolver::flows(const ast::RuleDecl& r) {
  bool ok = true;
  auto src = endpoints(r.sources, ok);
  auto dst = endpoints(r.destinations, ok);
  auto svc = services(r.services, ok);
  if (!ok) return;
  auto text = one_line(sources_.text(r.span));
  if (r.kind == ast::RuleKind::never) {
    out_.invariants.push_back({std::move(src), std::move(dst), std::move(svc), location(r.span), std::move(text)});
    return;
  }
  ir::Rule rule;
  rule.action = r.kind == ast::RuleKind::allow ? ir::Action::allow : ir::Action::deny;
  rule.sources = std::move(src);
  rule.destinations = std::move(dst);
  rule.services = std::move(svc);
  rule.location = location(r.span);
  rule.text = std::move(text);
  out_.rules.push_back(std::move(rule));
}

std::optional<ir::ServicePort> Resolver::single_port(const ast::ServiceRef& ref, bool tcp_only, std::optional<int>* service_id,
                                           const std::string& what) {
  bool ok = true;
  auto list = services({ref}, ok);
  if (!ok) return std::nullopt;
  if (auto* n = std::get_if<ast::Name>(&ref.ref)) {
    auto it = symbols_.find(n->text);
    if (it != symbols_.end() && it->second.kind == Kind::service && broken_services_.count(it->second.index))
      return std::nullopt;  // its port error is reported already
  }
  bool single = list.size() == 1 && list[0].port.proto != ir::Proto::icmp &&
                list[0].port.range.first == list[0].port.range.last;
  if (!single || (tcp_only && list[0].port.proto != ir::Proto::tcp)) {
    auto& d = diags_.error(code::kPublishPort, ref.span(),
                           what + " needs a service of exactly one " + (tcp_only ? "tcp port" : "tcp or udp port"));
    if (!list.empty()) {
      std::string all;
      for (const auto& s : list) all += (all.empty() ? "" : ", ") + s.port.str();
      d.hints.push_back("it has: " + all);
    }
    return std::nullopt;
  }
  if (service_id) *service_id = list[0].service;
  return list[0].port;
}

void Resolver::flows(const ast::VpnDecl& v) {
  ir::Vpn vpn;
  vpn.name = v.name.text;
  vpn.location = location(v.span);
  bool ok = true;
  if (auto s = host(v.server)) vpn.server = *s;
  else ok = false;
  if (!v.listen) {
    diags_.error(code::kVpnIncomplete, v.span, "vpn '" + vpn.name + "' needs 'listen SERVICE from ZONES'");
    ok = false;
  } else if (auto p = single_port(*v.listen, false, nullptr, "a VPN's listener")) {
    vpn.listen = *p;
  } else {
    ok = false;
  }
  vpn.listen_from = endpoints(v.listen_from, ok);
  if (!v.pool) {
    diags_.error(code::kVpnIncomplete, v.span, "vpn '" + vpn.name + "' needs 'pool ZONE' (the clients' zone)");
    ok = false;
  } else if (auto z = zone(*v.pool)) {
    vpn.pool = *z;
    const auto& nets = out_.zones[static_cast<std::size_t>(*z)].networks;
    auto v4 = std::count_if(nets.begin(), nets.end(), [](const Cidr& c) { return c.family == Family::v4; });
    auto v6 = static_cast<long>(nets.size()) - v4;
    if (broken_zones_.count(*z)) {
      ok = false;  // its address error is reported already
    } else if (v4 != 1 || v6 > 1 || out_.zones[static_cast<std::size_t>(*z)].catch_all) {
      diags_.error(code::kVpnPool, v.pool->span,
                   "the VPN pool zone '" + v.pool->text + "' must be one IPv4 network (and at most one IPv6 network)");
      ok = false;
    }
  } else {
    ok = false;
  }
  vpn.routes = endpoints(v.routes, ok);
  if (!ok) return;
  int index = static_cast<int>(out_.vpns.size());
  out_.vpns.push_back(vpn);
  ir::Rule rule;
  rule.origin = ir::Origin::vpn;
  rule.origin_index = index;
  rule.sources = vpn.listen_from;
  rule.destinations = {{Endpoint::Kind::host, vpn.server}};
  rule.services = {{std::nullopt, vpn.listen}};
  rule.location = vpn.location;
  rule.text = "vpn " + vpn.name + " on " + out_.hosts[static_cast<std::size_t>(vpn.server)].name + ": listen " +
              vpn.listen.str();
  out_.rules.push_back(std::move(rule));
}

void Resolver::flows(const ast::PublishDecl& p) {
  ir::Publish pub;
  pub.domain = p.domain.text;
  pub.location = location(p.span);
  pub.tls = p.tls;
  pub.websocket = p.websocket;
  bool ok = check_domain(p.domain);
  if (auto [it, inserted] = domains_.emplace(p.domain.text, p.domain.span); !inserted) {
    auto& d = diags_.error(code::kDuplicateDomain, p.domain.span, "'" + p.domain.text + "' is already published");
    d.notes.push_back({it->second, "published here"});
    ok = false;
  }
  if (auto h = host(p.proxy)) pub.proxy = *h;
  else ok = false;
  if (auto h = host(p.backend)) pub.backend = *h;
  else ok = false;
  std::optional<int> service_id;
  if (auto port = single_port({p.service}, true, &service_id, "a published backend")) {
    pub.backend_port = *port;
    pub.service = service_id.value_or(-1);
  } else {
    ok = false;
  }
  if (p.from.empty()) {
    auto& d = diags_.error(code::kNobodyMayUse, p.span, "published name '" + pub.domain + "' says nobody may use it");
    d.hints.push_back("add the zones allowed to use it: { from lan, vpn }");
    ok = false;
  }
  pub.from = endpoints(p.from, ok);
  pub.listen_port = {ir::Proto::tcp, pub.tls ? ir::PortRange{443, 443} : ir::PortRange{80, 80}};
  if (!ok) return;
  int index = static_cast<int>(out_.publishes.size());
  out_.publishes.push_back(pub);
  // A published name is two flows: clients to the proxy, the proxy to the backend.
  std::string text = one_line(sources_.text(p.span));
  ir::Rule to_proxy;
  to_proxy.origin = ir::Origin::publish;
  to_proxy.origin_index = index;
  to_proxy.sources = pub.from;
  to_proxy.destinations = {{Endpoint::Kind::host, pub.proxy}};
  to_proxy.services = {{std::nullopt, pub.listen_port}};
  to_proxy.location = pub.location;
  to_proxy.text = text;
  ir::Rule to_backend = to_proxy;
  to_backend.sources = {{Endpoint::Kind::host, pub.proxy}};
  to_backend.destinations = {{Endpoint::Kind::host, pub.backend}};
  to_backend.services = {{service_id, pub.backend_port}};
  out_.rules.push_back(std::move(to_proxy));
  out_.rules.push_back(std::move(to_backend));
}

bool Resolver::check_domain(const ast::Name& d) {
  std::string text = d.text;
  std::string why;
  if (text.size() > 253) why = "it is longer than 253 characters";
  std::string rest = text.rfind("*.", 0) == 0 ? text.substr(2) : text;
  if (why.empty() && rest.find('.') == std::string::npos) why = "it needs at least two labels (name.example)";
  std::size_t start = 0;
  while (why.empty() && start <= rest.size()) {
    auto dot = rest.find('.', start);
    auto label = rest.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!std::regex_match(label, kDomainLabel))
      why = "the label '" + label + "' is not 1-63 lower-case letters, digits and inner '-'";
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (why.empty()) return true;
  diags_.error(code::kBadDomain, d.span, "invalid published name '" + text + "': " + why);
  return false;
}

}  // namespace netpol::resolver
