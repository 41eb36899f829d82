#pragma once
// The real tools of the lab (ufw, iptables, openssl, nginx, openvpn), run inside the lab's named
// network namespaces with private configuration, never touching the root namespace or /etc.
// Errors are netpol::live::ToolError (a std::runtime_error) carrying the tail of the tool's log.
// Every scratch directory given here must be root-owned and not group/world-writable (ufw checks
// every component of its paths), and traversable by `nobody` for openvpn (it drops privileges).
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "netns.h"
#include "processes.h"

namespace netpol::live::lab {

// Runs the compiled script out/ufw/<host>.sh (`ufw --force reset`, defaults, rules, `ufw --force
// enable`) inside namespace ns, with a private /etc/ufw, /etc/default/ufw, /run and TMPDIR made in
// `scratch` from the pristine packaged files, /proc/sys read-only except /proc/sys/net. The same
// scratch dir may be reused for later calls (ufw status, disable): it is prepared once.
void apply_ufw_script(Processes& processes, const std::string& ns, const std::string& script,
                      const std::string& scratch);
// The fast way to the same rules (docs/targets/ufw.md): the compiled out/ufw/<host>.rules and
// .rules6 installed as user.rules and user6.rules, the three defaults DROP in /etc/default/ufw,
// then one `ufw --force enable`. ~1 s, where the script makes one ufw call per rule (~0.15 s each).
void apply_ufw_rules_files(Processes& processes, const std::string& ns, const std::string& rules,
                           const std::string& rules6, const std::string& scratch);
// Runs any command (`ufw status verbose`, `ufw --force disable`) in the same private ufw setup.
int run_ufw_command(Processes& processes, const std::string& ns, const std::vector<std::string>& argv,
                    const std::string& scratch, const std::string& log);

// Opens the namespace's own firewall for a layer test: an ACCEPT at the top of INPUT, FORWARD and
// OUTPUT of iptables and ip6tables (the backend ufw uses: the `iptables` on PATH), or removes them.
// Idempotent both ways. `scratch` holds the logs.
void bypass_vm_firewall(Processes& processes, const std::string& ns, bool bypass, const std::string& scratch);

// A throwaway PKI made with openssl in `dir` (created): an EC P-256 CA, a server certificate
// (CN server, serverAuth) and one client certificate per name (CN = name, clientAuth), plus a
// tls-crypt key (`openvpn --genkey tls-crypt`) for a server compiled with --openvpn-tls-crypt.
// Paths are absolute; files are world-readable except the keys (0600, read by root before openvpn
// drops privileges).
struct Pki {
  std::string ca, server_cert, server_key;
  std::string dh_or_empty;  // always empty: EC keys, server.conf says `dh none`
  std::string tls_crypt;
  std::map<std::string, std::pair<std::string, std::string>> clients;  // name -> (cert, key)
};
Pki make_pki(Processes& processes, const std::string& dir, const std::vector<std::string>& client_names);

// nginx on the compiled out/nginx/*.conf (copied unchanged into work/servers/) under a private
// prefix `work` (created): an nginx.conf that includes them, a self-signed certificate at every
// path their ssl_certificate lines name (relative to work). Runs in ns in the foreground (daemon
// off); returns once every port of their `listen` lines is bound in ns (bounded wait, ~5 s).
pid_t start_nginx(Processes& processes, const std::string& ns, const std::string& compiled_nginx_dir,
                  const std::string& work);

// How the server treats the compiled `tls-crypt` line (the target always writes one).
enum class OpenvpnTls {
  as_compiled,        // server.conf as is: clients then need the same key (Pki::tls_crypt)
  without_tls_crypt,  // the line left out, so a plain P_CONTROL_HARD_RESET_CLIENT_V2 gets an answer
};
// The openvpn server in ns, from a copy of the compiled server.conf (and its ccd/) in `work`
// (created; --cd work), with --disable-dco --verb 3; returns once its log says "Initialization
// Sequence Completed" (bounded, ~10 s). work/server.conf is then the configuration it runs.
pid_t start_openvpn_server(Processes& processes, const std::string& ns, const std::string& server_conf,
                           const std::string& work, OpenvpnTls tls = OpenvpnTls::as_compiled);

// An openvpn client in ns with the PKI's certificate of `client_name`, to remote:port, mirroring
// the server's proto, tls-crypt, data-ciphers and tls-version-min as read from `server_conf` (the
// work/server.conf the server runs). Returns once its log says "Initialization Sequence Completed"
// (bounded, ~10 s); tun_name receives its tun device (each client gets its own name).
pid_t start_openvpn_client(Processes& processes, const std::string& ns, const Pki& pki,
                           const std::string& client_name, const std::string& remote, std::uint16_t port,
                           const std::string& server_conf, const std::string& work, std::string& tun_name);

}  // namespace netpol::live::lab
