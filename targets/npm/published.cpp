#include "published.h"

#include <algorithm>
#include <map>

#include "address_sets.h"
#include "comment.h"
#include "npm_codes.h"
#include "npm_values.h"

namespace netpol::npm {

namespace {

// Reports once: the NPM and nginx targets validate the same sites.
void report(Diagnostics& diags, std::string_view code, const Span& span, const std::string& message,
            const std::string& hint) {
  for (const auto& d : diags.all())
    if (d.code == code && d.span.file == span.file && d.span.begin == span.begin && d.message == message) return;
  auto& d = diags.error(code, span, message);
  if (!hint.empty()) d.hints.push_back(hint);
}

std::string publish_comment(const ir::Policy& policy, int index) {
  for (std::size_t r = 0; r < policy.rules.size(); ++r) {
    const auto& rule = policy.rules[r];
    if (rule.origin == ir::Origin::publish && rule.origin_index == index) return rule_comment(policy, static_cast<int>(r));
  }
  const auto& p = policy.publishes[static_cast<std::size_t>(index)];
  return safe_comment(p.location.where() + " publish " + p.domain);
}

std::vector<Cidr> client_networks(const ir::Policy& policy, const std::vector<ir::Endpoint>& members) {
  std::vector<Cidr> all;
  for (const auto& e : members) {
    auto nets = disjoint_cidrs(address_set(policy, {e, {}}));
    all.insert(all.end(), nets.begin(), nets.end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  // A host named beside its own zone adds nothing: drop networks inside another one.
  std::vector<Cidr> kept;
  for (const auto& c : all)
    if (std::none_of(all.begin(), all.end(), [&](const Cidr& o) { return o != c && o.contains(c); })) kept.push_back(c);
  return kept;
}

// a ∩ b for lists of networks: every network of one that lies inside a network of the other.
std::vector<Cidr> intersect(const std::vector<Cidr>& a, const std::vector<Cidr>& b) {
  std::vector<Cidr> out;
  for (const auto& x : a)
    for (const auto& y : b) {
      if (x.contains(y)) out.push_back(y);
      else if (y.contains(x)) out.push_back(x);
    }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::vector<std::string> real_ip_forgers(const ir::Policy& policy, const Site& site, const ClientSet& clients) {
  static const std::vector<Cidr> trusted = {*parse_cidr("10.0.0.0/8").cidr, *parse_cidr("172.16.0.0/12").cidr,
                                            *parse_cidr("192.168.0.0/16").cidr};
  const auto& p = policy.publishes[static_cast<std::size_t>(site.publish)];
  const auto& proxy = policy.hosts[static_cast<std::size_t>(p.proxy)];
  auto port = p.listen_port.range.first;
  std::vector<std::string> out;
  for (const auto& flow : policy.flows) {
    if (flow.proto != ir::Proto::tcp || port < flow.ports.first || port > flow.ports.last) continue;
    const auto& dst = flow.destination;
    bool to_proxy = dst.endpoint.kind == ir::Endpoint::Kind::host
                        ? dst.endpoint.id == p.proxy
                        : dst.endpoint.id == proxy.zone && std::find(dst.except_hosts.begin(), dst.except_hosts.end(),
                                                                     p.proxy) == dst.except_hosts.end();
    if (!to_proxy) continue;
    auto outside = subtract(disjoint_cidrs(address_set(policy, flow.source)), clients.networks);
    auto forgers = intersect(outside, trusted);
    if (forgers.empty()) continue;
    auto entry = policy.name_of(flow.source.endpoint) + " (" + forgers.front().str() +
                 (forgers.size() > 1 ? ", ..." : "") + ")";
    if (std::find(out.begin(), out.end(), entry) == out.end()) out.push_back(entry);
  }
  return out;
}

Sites build_sites(const ir::Policy& policy, Diagnostics& diags) {
  Sites out;
  std::map<std::vector<std::string>, int> set_index;  // sorted member names -> client set
  std::map<std::string, std::vector<std::string>> set_by_name;
  for (std::size_t i = 0; i < policy.publishes.size(); ++i) {
    const auto& p = policy.publishes[i];
    const auto& span = p.location.span;
    bool ok = true;

    if (!valid_domain(p.domain)) {
      report(diags, code::kBadDomain, span,
             "published name '" + safe_comment(p.domain) + "' cannot be written to NPM or nginx",
             "a published name is lower-case letters, digits and inner '-' in dot-separated labels, "
             "optionally starting with '*.'");
      ok = false;
    }

    std::string backend_host;
    if (p.backend >= 0 && static_cast<std::size_t>(p.backend) < policy.hosts.size()) {
      const auto& host = policy.hosts[static_cast<std::size_t>(p.backend)];
      for (const auto& a : host.addresses) {
        if (a.family == Family::v4 && a.is_host()) {
          backend_host = a.str(true);
          break;
        }
      }
      if (backend_host.empty() || !valid_ipv4(backend_host)) {
        report(diags, code::kNoIpv4Backend, span,
               "backend '" + host.name + "' of '" + p.domain + "' has no IPv4 address for the reverse proxy",
               "give '" + host.name + "' an IPv4 address: NPM's forward_host cannot take an IPv6 address");
        ok = false;
      }
    } else {
      ok = false;  // the compiler's own checks report an unresolved backend
    }

    const auto& bp = p.backend_port;
    if (bp.proto != ir::Proto::tcp || bp.range.first != bp.range.last || bp.range.first < 1) {
      report(diags, code::kBadBackendPort, span,
             "the backend of '" + p.domain + "' is " + bp.str() + ", not one tcp port",
             "a published backend is a service with exactly one tcp port");
      ok = false;
    }

    // The client set: distinct members, named from their sorted names.
    std::vector<ir::Endpoint> members = p.from;
    std::sort(members.begin(), members.end(),
              [&](const ir::Endpoint& a, const ir::Endpoint& b) { return policy.name_of(a) < policy.name_of(b); });
    members.erase(std::unique(members.begin(), members.end()), members.end());
    std::vector<std::string> names;
    for (const auto& m : members) names.push_back(policy.name_of(m));
    std::string list_name(kAccessListPrefix);
    for (std::size_t n = 0; n < names.size(); ++n) list_name += (n ? "+" : "") + names[n];

    int set = -1;
    if (auto it = set_index.find(names); it != set_index.end()) {
      set = it->second;
    } else if (names.empty() || !valid_access_list_name(list_name)) {
      report(diags, code::kBadAccessList, span,
             "the access list for '" + p.domain + "' would be named '" + safe_comment(list_name) +
                 "', which is not a valid access-list name",
             "access-list names are 'netpol-' and the client zones joined by '+', at most " +
                 std::to_string(kMaxAccessListName) + " characters: name fewer zones in 'from'");
      ok = false;
    } else if (set_by_name.count(list_name)) {
      report(diags, code::kBadAccessList, span,
             "the access list name '" + list_name + "' stands for two different sets of clients", "");
      ok = false;
    } else {
      ClientSet cs{list_name, names, client_networks(policy, members)};
      for (const auto& net : cs.networks) {
        auto text = net.str();
        if (!valid_client_address(text)) {
          report(diags, code::kBadClientAddress, span,
                 "client network " + text + " of '" + p.domain + "' would be refused by NPM's access-list schema",
                 "NPM's IPv6 address pattern is faulty (shared/formats.md 3.3): use networks it accepts");
          ok = false;
        }
      }
      if (ok) {
        set = static_cast<int>(out.client_sets.size());
        set_index[names] = set;
        set_by_name[list_name] = names;
        out.client_sets.push_back(std::move(cs));
      }
    }

    if (!ok) {
      out.complete = false;
      continue;
    }
    Site site;
    site.publish = static_cast<int>(i);
    site.domain = p.domain;
    site.backend_host = backend_host;
    site.backend_port = bp.range.first;
    site.tls = p.tls;
    site.websocket = p.websocket;
    site.client_set = set;
    site.comment = publish_comment(policy, static_cast<int>(i));
    out.sites.push_back(std::move(site));
  }
  return out;
}

}  // namespace netpol::npm
