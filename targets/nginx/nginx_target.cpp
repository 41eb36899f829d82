// out/nginx/<name>.conf: each published name as a plain nginx server block, with the same
// access rules as the NPM access list (docs/targets/nginx.md). Every value written comes from
// the validated model of targets/npm/published.h; nothing is quoted because nothing needs it.
#include "nginx_target.h"

#include <sstream>

#include "comment.h"
#include "npm_codes.h"
#include "npm_values.h"
#include "published.h"

namespace netpol {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string cert_base(const NginxOptions& options, const std::string& domain) {
  auto file = npm::nginx_file_name(domain);                  // "<name>.conf"
  return options.cert_dir + "/" + file.substr(0, file.size() - 5);  // without ".conf"
}

std::string server_block(const ir::Policy& policy, const NginxOptions& options, const npm::Site& site,
                         const npm::ClientSet& clients) {
  std::ostringstream s;
  s << "# " << provenance(policy) << "\n";
  s << "# " << site.comment << "\n";
  s << "server {\n";
  if (site.tls) {
    s << "    listen 443 ssl;\n";
    s << "    listen [::]:443 ssl;\n";
  } else {
    s << "    listen 80;\n";
    s << "    listen [::]:80;\n";
  }
  s << "    server_name " << site.domain << ";\n";
  if (site.tls) {
    auto base = cert_base(options, site.domain);
    s << "\n";
    s << "    ssl_certificate     " << base << ".crt;\n";
    s << "    ssl_certificate_key " << base << ".key;\n";
    s << "    ssl_protocols       TLSv1.2 TLSv1.3;\n";
  }
  s << "\n";
  s << "    # from " << join(clients.members) << ": these networks, everybody else gets 403\n";
  for (const auto& net : clients.networks) s << "    allow " << net.str() << ";\n";
  s << "    deny all;\n";
  s << "\n";
  s << "    location / {\n";
  s << "        proxy_pass http://" << site.backend_host << ":" << site.backend_port << ";\n";
  s << "        proxy_http_version 1.1;\n";
  s << "        proxy_set_header Host $host;\n";
  s << "        proxy_set_header X-Real-IP $remote_addr;\n";
  s << "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n";
  s << "        proxy_set_header X-Forwarded-Proto $scheme;\n";
  if (site.websocket) {
    s << "        proxy_set_header Upgrade $http_upgrade;\n";
    s << "        proxy_set_header Connection $http_connection;\n";
  }
  s << "    }\n";
  s << "}\n";
  return s.str();
}

// Names nobody published must not fall through to the first server of a port: refuse them.
std::string default_servers(const ir::Policy& policy, bool any_tls, bool any_plain) {
  std::ostringstream s;
  s << "# " << provenance(policy) << "\n";
  s << "# Requests for names that are not published: TLS handshake refused, plain HTTP closed.\n";
  if (any_tls) {
    s << "server {\n";
    s << "    listen 443 ssl default_server;\n";
    s << "    listen [::]:443 ssl default_server;\n";
    s << "    ssl_reject_handshake on;\n";
    s << "}\n";
  }
  if (any_plain) {
    s << "server {\n";
    s << "    listen 80 default_server;\n";
    s << "    listen [::]:80 default_server;\n";
    s << "    return 444;\n";
    s << "}\n";
  }
  return s.str();
}

}  // namespace

bool valid_nginx_cert_dir(const std::string& dir) {
  if (dir.empty() || dir.size() > 200 || dir.back() == '/') return false;
  for (char c : dir) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == '/';
    if (!ok) return false;
  }
  return dir.find("..") == std::string::npos && dir.find("//") == std::string::npos;
}

void emit_nginx(const ir::Policy& policy, OutputSet& out, Diagnostics& diags) {
  emit_nginx(policy, NginxOptions{}, out, diags);
}

void emit_nginx(const ir::Policy& policy, const NginxOptions& options, OutputSet& out, Diagnostics& diags) {
  auto sites = npm::build_sites(policy, diags);
  if (!sites.complete || sites.sites.empty()) return;  // errors are reported by build_sites
  if (!valid_nginx_cert_dir(options.cert_dir)) {
    diags.error(npm::code::kBadOption, Span{}, "nginx certificate folder '" + safe_comment(options.cert_dir) +
                                                    "' is not a plain path");
    return;
  }
  bool any_tls = false, any_plain = false;
  for (const auto& site : sites.sites) {
    const auto& clients = sites.client_sets[static_cast<std::size_t>(site.client_set)];
    out["nginx/" + npm::nginx_file_name(site.domain)] = server_block(policy, options, site, clients);
    (site.tls ? any_tls : any_plain) = true;
  }
  out["nginx/_default.conf"] = default_servers(policy, any_tls, any_plain);
}

}  // namespace netpol
