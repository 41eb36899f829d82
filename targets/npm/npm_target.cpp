// out/npm/access-lists.json and out/npm/proxy-hosts.json: NPM API request bodies
// (docs/targets/npm.md). Each array item is exactly what NPM's POST schema accepts; the only
// netpol data inside is `meta.netpol`, which the schema allows (a free object) and which
// `netpolc npm apply` reads: the access list's name, and the mark that netpol manages the host.
// Provenance lives in out/manifest.json (JSON has no comments, and bodies take no extra keys).
#include "npm_target.h"

#include <nlohmann/json.hpp>

#include "npm_codes.h"
#include "published.h"

namespace netpol {

namespace {

using ordered_json = nlohmann::ordered_json;

std::string dump(const ordered_json& j) { return j.dump(2) + "\n"; }

}  // namespace

void emit_npm(const ir::Policy& policy, OutputSet& out, Diagnostics& diags) {
  auto sites = npm::build_sites(policy, diags);

  ordered_json lists = ordered_json::array();
  for (const auto& set : sites.client_sets) {
    ordered_json clients = ordered_json::array();
    for (const auto& net : set.networks) clients.push_back({{"directive", "allow"}, {"address", net.str()}});
    clients.push_back({{"directive", "deny"}, {"address", "all"}});
    lists.push_back({{"name", set.name},
                     {"satisfy_any", false},
                     {"pass_auth", false},
                     {"items", ordered_json::array()},
                     {"clients", std::move(clients)}});
  }

  ordered_json hosts = ordered_json::array();
  for (const auto& site : sites.sites) {
    const auto& set = sites.client_sets[static_cast<std::size_t>(site.client_set)];
    hosts.push_back({
        {"domain_names", ordered_json::array({site.domain})},
        {"forward_scheme", "http"},
        {"forward_host", site.backend_host},
        {"forward_port", site.backend_port},
        // `tls`: HTTPS only (HTTP redirected). The certificate is not policy: `npm apply` picks
        // the NPM certificate that covers the name and sets certificate_id (and refuses when none does).
        {"ssl_forced", site.tls},
        {"hsts_enabled", false},
        {"hsts_subdomains", false},
        {"http2_support", false},
        {"block_exploits", true},
        {"caching_enabled", false},
        {"allow_websocket_upgrade", site.websocket},
        {"enabled", true},
        {"locations", ordered_json::array()},
        {"meta", {{"netpol", {{"access_list", set.name}}}}},
    });
  }

  if (!sites.complete) return;  // the errors are reported; no partial files

  for (const auto& site : sites.sites) {
    const auto& set = sites.client_sets[static_cast<std::size_t>(site.client_set)];
    auto forgers = npm::real_ip_forgers(policy, site, set);
    if (forgers.empty()) continue;
    std::string who;
    for (const auto& f : forgers) who += (who.empty() ? "" : ", ") + f;
    auto& d = diags.warning(npm::code::kForgeableRealIp, policy.publishes[static_cast<std::size_t>(site.publish)].location.span,
                            "NPM trusts X-Real-IP from RFC 1918 addresses: " + who + " may reach the proxy on tcp/" +
                                std::to_string(policy.publishes[static_cast<std::size_t>(site.publish)].listen_port.range.first) +
                                " and can forge X-Real-IP to pass the access list of '" + site.domain + "'");
    d.hints.push_back("NPM's nginx.conf has set_real_ip_from 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16; deny those "
                      "clients the proxy's port, or see 'The X-Real-IP caveat' in docs/targets/npm.md");
  }
  out["npm/access-lists.json"] = dump(lists);
  out["npm/proxy-hosts.json"] = dump(hosts);
}

}  // namespace netpol
