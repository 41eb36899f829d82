#pragma once
// Deployment facts a target needs that are not policy: where things live on the
// machines. They come from the command line (netpolc compile --help), with defaults.
#include <string>

namespace netpol {

struct TargetOptions {
  // OpenVPN server's PKI files, as paths on the VPN host (never invented: defaults are
  // the Debian easy-rsa layout, and each can be set on the command line).
  std::string openvpn_ca = "/etc/openvpn/server/ca.crt";
  std::string openvpn_cert = "/etc/openvpn/server/server.crt";
  std::string openvpn_key = "/etc/openvpn/server/server.key";
  std::string openvpn_tls_crypt = "/etc/openvpn/server/tc.key";
};

}  // namespace netpol
