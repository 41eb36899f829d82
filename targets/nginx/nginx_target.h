#pragma once
#include <string>

#include "diagnostics.h"
#include "ir.h"
#include "output_set.h"

namespace netpol {

// Deployment facts of the plain-nginx target (docs/targets/nginx.md).
struct NginxOptions {
  // Where each TLS name's certificate and key are, as nginx reads the path: a relative path is
  // taken from nginx's configuration folder (/etc/nginx on Debian). Files: DIR/<name>.crt and
  // DIR/<name>.key, with "*." written "_wildcard.". Letters, digits, '.', '_', '-', '/' only.
  std::string cert_dir = "netpol/tls";
};

void emit_nginx(const ir::Policy& policy, OutputSet& out, Diagnostics& diags);
void emit_nginx(const ir::Policy& policy, const NginxOptions& options, OutputSet& out, Diagnostics& diags);

// True when `dir` is usable as NginxOptions::cert_dir (no "..", no spaces, quotes or ';').
bool valid_nginx_cert_dir(const std::string& dir);

}  // namespace netpol
