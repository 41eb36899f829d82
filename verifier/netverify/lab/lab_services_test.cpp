// The lab's real tools in namespaces the tests create (nv-t<pid>-...), as root. Addresses come
// from 198.18.0.0/15; namespaces and scratch dirs are removed by guards, also on failure.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <regex>
#include <sstream>

#include "lab_services.h"
#include "service_files.h"

namespace fs = std::filesystem;
using namespace netpol::live::lab;
using netpol::live::ToolError;
using std::chrono::milliseconds;

namespace {

bool is_root() { return ::geteuid() == 0; }

#define REQUIRE_ROOT()                                     \
  do {                                                     \
    if (!is_root()) {                                      \
      WARN("not root: the lab's tools need namespaces");   \
      return;                                              \
    }                                                      \
  } while (0)

// A scratch dir, root-owned and traversable (openvpn reads ccd/ as nobody), removed at the end.
struct TempDir {
  std::string path;
  TempDir() {
    std::string templ = "/tmp/nv-t" + std::to_string(::getpid()) + "-XXXXXX";
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp");
    path = templ;
    ::chmod(path.c_str(), 0711);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

// The output and status of a short command (in namespace ns, "" for ours).
struct Result {
  int rc;
  std::string out;
};
Result capture(const std::string& ns, const std::vector<std::string>& argv, milliseconds timeout = milliseconds(20000)) {
  TempDir dir;
  Processes p;
  int rc = p.run(ns, argv, dir / "out", timeout);
  return {rc, read_text(dir / "out")};
}

// Inode of a namespace file: which network namespace a process is in.
ino_t ns_inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

std::vector<pid_t> pids_in(const std::string& ns) {
  std::vector<pid_t> out;
  ino_t want = ns_inode("/run/netns/" + ns);
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (want != 0 && ns_inode(entry.path().string() + "/ns/net") == want) out.push_back(std::stoi(name));
  }
  return out;
}

// A namespace nv-t<pid>-<tag> with lo up; on destruction whatever runs in it is killed and it is deleted.
struct TestNetns {
  std::string name;
  explicit TestNetns(const std::string& tag) : name("nv-t" + std::to_string(::getpid()) + "-" + tag) {
    capture("", {"ip", "netns", "del", name});  // a leftover of a crashed run of this pid
    if (capture("", {"ip", "netns", "add", name}).rc != 0) throw std::runtime_error("ip netns add " + name);
    capture("", {"ip", "-n", name, "link", "set", "lo", "up"});
  }
  ~TestNetns() {
    for (pid_t pid : pids_in(name)) ::kill(pid, SIGKILL);
    capture("", {"ip", "netns", "del", name});
  }
  void ip(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"ip", "-n", name};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = capture("", argv);
    if (r.rc != 0) throw std::runtime_error("ip -n " + name + ": " + r.out);
  }
};

// Two namespaces joined by a veth pair made inside them (never visible in the root namespace).
void link(const TestNetns& a, const std::string& addr_a, const TestNetns& b, const std::string& addr_b) {
  a.ip({"link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", b.name});
  a.ip({"addr", "add", addr_a, "dev", "v0"});
  b.ip({"addr", "add", addr_b, "dev", "v1"});
  a.ip({"link", "set", "v0", "up"});
  b.ip({"link", "set", "v1", "up"});
}

// netpolc compile policy/lab.npol -o DIR, with extra options.
std::string compile_lab(const TempDir& dir, const std::vector<std::string>& extra = {}) {
  std::string out = dir / "out";
  std::vector<std::string> argv = {NETPOLC_PATH, "compile", std::string(NETPOL_SOURCE_DIR) + "/policy/lab.npol", "-o", out};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = capture("", argv);
  INFO(r.out);
  REQUIRE(r.rc == 0);
  return out;
}

// iptables-save output without its dated comment lines and packet counters.
std::string rules_only(const std::string& saved) {
  std::istringstream lines(saved);
  std::string out;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind('#', 0) != 0) out += std::regex_replace(line, std::regex("\\[[0-9]+:[0-9]+\\]"), "") + "\n";
  return out;
}

// The rules minus Docker's chains and netpol's Docker part.
std::string without_docker(const std::string& rules) {
  std::istringstream lines(rules);
  std::string out;
  for (std::string line; std::getline(lines, line);)
    if (line.find("DOCKER") == std::string::npos && line.find("netpol-docker") == std::string::npos) out += line + "\n";
  return out;
}

// The root namespace's firewall, counters left out.
std::string root_firewall() {
  std::string all;
  for (const char* tool : {"iptables-save", "ip6tables-save"}) all += rules_only(capture("", {tool}).out);
  return all + capture("", {"nft", "list", "ruleset"}).out;
}

// A TCP connect from ns to addr:port within 1.5 s (bash's /dev/tcp: no extra tool).
bool connects(const std::string& ns, const std::string& addr, const std::string& port) {
  return capture(ns, {"bash", "-c", "exec 3<>/dev/tcp/" + addr + "/" + port}, milliseconds(1500)).rc == 0;
}

// A TCP listener in ns that accepts and closes; returns once it is bound (bounded).
pid_t listener(Processes& p, const std::string& ns, const std::string& addr, int port, const std::string& log) {
  pid_t pid = p.spawn(ns,
                      {"/usr/bin/python3", "-c",
                       "import socket, sys\n"
                       "s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)\n"
                       "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                       "s.bind((sys.argv[1], int(sys.argv[2])))\n"
                       "s.listen(16)\n"
                       "while True: s.accept()[0].close()\n",
                       addr, std::to_string(port)},
                      log);
  REQUIRE(wait_until(milliseconds(5000), [&] { return listening_tcp_ports(pid).count(static_cast<std::uint16_t>(port)) > 0; }));
  return pid;
}

}  // namespace

TEST_CASE("Processes: spawn runs in the namespace, stop_all ends it", "[lab_services][root]") {
  REQUIRE_ROOT();
  TestNetns ns("p1");
  TempDir dir;
  Processes p;
  pid_t pid = p.spawn(ns.name, {"sleep", "60"}, dir / "sleep.log");
  CHECK(ns_inode("/proc/" + std::to_string(pid) + "/ns/net") == ns_inode("/run/netns/" + ns.name));
  CHECK(ns_inode("/proc/" + std::to_string(pid) + "/ns/net") != ns_inode("/proc/self/ns/net"));
  CHECK(p.alive(pid));
  CHECK(pids_in(ns.name) == std::vector<pid_t>{pid});
  auto start = std::chrono::steady_clock::now();
  p.stop_all();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));
  CHECK_FALSE(p.alive(pid));
  CHECK(pids_in(ns.name).empty());
  CHECK(::kill(pid, 0) != 0);  // reaped: no zombie left
}

TEST_CASE("Processes: run returns the exit status, output goes to the log", "[lab_services][root]") {
  REQUIRE_ROOT();
  TestNetns ns("p2");
  TempDir dir;
  Processes p;
  CHECK(p.run(ns.name, {"sh", "-c", "echo out; echo err >&2; exit 3"}, dir / "log", milliseconds(5000)) == 3);
  CHECK(read_text(dir / "log") == "out\nerr\n");
  // ip inside the namespace sees only its own lo: it is the namespace's view.
  CHECK(p.run(ns.name, {"ip", "-o", "link"}, dir / "links", milliseconds(5000)) == 0);
  CHECK(read_text(dir / "links").find("lo:") != std::string::npos);
  CHECK(read_text(dir / "links").find("eth") == std::string::npos);
  CHECK(p.run(ns.name, {"sh", "-c", "kill -TERM $$"}, dir / "log", milliseconds(5000)) == 128 + SIGTERM);
}

TEST_CASE("Processes: run kills the whole process group on timeout", "[lab_services][root]") {
  REQUIRE_ROOT();
  TestNetns ns("p3");
  TempDir dir;
  Processes p;
  auto start = std::chrono::steady_clock::now();
  // The shell forks a second sleep in the background: both belong to the group that is killed.
  int rc = p.run(ns.name, {"sh", "-c", "sleep 60 & sleep 60"}, dir / "log", milliseconds(300));
  CHECK(rc == Processes::kTimedOut);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(wait_until(milliseconds(2000), [&] { return pids_in(ns.name).empty(); }));
}

TEST_CASE("Processes: failures before exec are errors, not log lines", "[lab_services][root]") {
  REQUIRE_ROOT();
  TempDir dir;
  Processes p;
  CHECK_THROWS_WITH(p.spawn("nv-t-does-not-exist", {"true"}, dir / "log"), Catch::Contains("nv-t-does-not-exist"));
  CHECK_THROWS_WITH(p.spawn("", {"no-such-tool-netverify"}, dir / "log"), Catch::Contains("not found"));
  CHECK_THROWS_WITH(p.spawn("", {"/nonexistent/tool"}, dir / "log"), Catch::Contains("exec failed"));
  // A named namespace that is the one we run in is refused.
  TempDir links;
  std::string alias = "nv-t" + std::to_string(::getpid()) + "-self";
  REQUIRE(capture("", {"touch", "/run/netns/" + alias}).rc == 0);
  REQUIRE(capture("", {"mount", "--bind", "/proc/self/ns/net", "/run/netns/" + alias}).rc == 0);
  CHECK_THROWS_WITH(p.spawn(alias, {"true"}, dir / "log"), Catch::Contains("refusing"));
  capture("", {"umount", "/run/netns/" + alias});
  fs::remove("/run/netns/" + alias);
}

TEST_CASE("Processes: bind mounts are private to the child, read-only when asked", "[lab_services][root]") {
  REQUIRE_ROOT();
  TestNetns ns("p4");
  TempDir dir;
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  write_text(dir / "a/marker", "from a\n", 0644);
  Processes p;
  CHECK(p.run(ns.name, {"cat", dir / "b/marker"}, dir / "log", milliseconds(5000), {{dir / "a", dir / "b"}}) == 0);
  CHECK(read_text(dir / "log") == "from a\n");
  CHECK_FALSE(fs::exists(dir / "b/marker"));  // not in our mount namespace
  CHECK(p.run(ns.name, {"touch", dir / "b/new"}, dir / "log2", milliseconds(5000), {{dir / "a", dir / "b", true}}) != 0);
  CHECK(read_text(dir / "log2").find("Read-only") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "a/new"));
}

TEST_CASE("apply_ufw_script: the compiled rules live in the namespace only", "[lab_services][root]") {
  REQUIRE_ROOT();
  TempDir dir;
  std::string out = compile_lab(dir);
  TestNetns ns("ufw");
  std::string host_before = root_firewall();
  std::string host_ufw_before = read_text("/etc/ufw/user.rules") + read_text("/etc/ufw/ufw.conf");
  Processes p;
  apply_ufw_script(p, ns.name, out + "/ufw/vm-intranet.sh", dir / "ufw");

  CHECK(run_ufw_command(p, ns.name, {"ufw", "status", "verbose"}, dir / "ufw", dir / "status.log") == 0);
  std::string status = read_text(dir / "status.log");
  INFO(status);
  CHECK(status.find("Status: active") != std::string::npos);
  CHECK(status.find("Default: deny (incoming)") != std::string::npos);
  CHECK(status.find("2283,3001,8096,9090/tcp") != std::string::npos);  // the proxy's backends
  auto inside = capture(ns.name, {"iptables-save"});
  CHECK(inside.out.find(":ufw-user-input") != std::string::npos);
  CHECK(inside.out.find("--dports 2283,3001,8096,9090") != std::string::npos);

  // The fast path (the compiled user.rules files and one enable) makes the same live firewall.
  TestNetns fast("ufwf");
  apply_ufw_rules_files(p, fast.name, out + "/ufw/vm-intranet.rules", out + "/ufw/vm-intranet.rules6", dir / "ufwf");
  CHECK(run_ufw_command(p, fast.name, {"ufw", "status", "verbose"}, dir / "ufwf", dir / "status-fast.log") == 0);
  CHECK(read_text(dir / "status-fast.log") == status);
  for (const char* tool : {"iptables-save", "ip6tables-save"}) {
    // The script also installs a Docker host's DOCKER-USER part (after.rules); the fast path leaves
    // that to its caller (the lab appends it), so those chains are compared apart from the rest.
    CHECK(without_docker(rules_only(capture(fast.name, {tool}).out)) ==
          without_docker(rules_only(capture(ns.name, {tool}).out)));
  }

  CHECK(root_firewall() == host_before);
  CHECK(read_text("/etc/ufw/user.rules") + read_text("/etc/ufw/ufw.conf") == host_ufw_before);
  CHECK_THROWS_AS(apply_ufw_script(p, "", out + "/ufw/vm-intranet.sh", dir / "ufw2"), ToolError);
  // A failing script is an error that carries what it printed.
  write_text(dir / "broken.sh", "echo 'ERROR: Bad port 70000'\nexit 1\n", 0700);
  CHECK_THROWS_WITH(apply_ufw_script(p, ns.name, dir / "broken.sh", dir / "ufw"), Catch::Contains("Bad port 70000"));
}

TEST_CASE("bypass_vm_firewall opens and closes the namespace's firewall", "[lab_services][root]") {
  REQUIRE_ROOT();
  TempDir dir;
  std::string out = compile_lab(dir);
  TestNetns vm("byvm"), peer("bypeer");
  link(vm, "198.18.1.20/24", peer, "198.18.1.50/24");
  Processes p;
  apply_ufw_rules_files(p, vm.name, out + "/ufw/vm-intranet.rules", out + "/ufw/vm-intranet.rules6", dir / "ufw");
  listener(p, vm.name, "198.18.1.20", 5432, dir / "listen.log");
  std::string host_before = root_firewall();

  CHECK_FALSE(connects(peer.name, "198.18.1.20", "5432"));  // ufw: postgres is no flow
  bypass_vm_firewall(p, vm.name, true, dir / "bypass");
  bypass_vm_firewall(p, vm.name, true, dir / "bypass");  // idempotent
  for (const char* tool : {"iptables", "ip6tables"}) {
    for (const char* chain : {"INPUT", "FORWARD", "OUTPUT"}) {
      auto rules = capture(vm.name, {tool, "-S", chain}).out;
      INFO(tool << " " << chain << ":\n" << rules);
      // -S prints the policy line first, then the rules in order: ours is the first rule, once.
      std::string first = rules.substr(rules.find('\n') + 1);
      CHECK(first.rfind(std::string("-A ") + chain + " -m comment --comment netverify-lab-bypass -j ACCEPT", 0) == 0);
      CHECK(rules.find("netverify-lab-bypass") == rules.rfind("netverify-lab-bypass"));
    }
  }
  CHECK(connects(peer.name, "198.18.1.20", "5432"));
  bypass_vm_firewall(p, vm.name, false, dir / "bypass");
  CHECK(capture(vm.name, {"iptables-save"}).out.find("netverify-lab-bypass") == std::string::npos);
  CHECK(capture(vm.name, {"ip6tables-save"}).out.find("netverify-lab-bypass") == std::string::npos);
  CHECK_FALSE(connects(peer.name, "198.18.1.20", "5432"));
  CHECK(root_firewall() == host_before);
}

TEST_CASE("make_pki: a CA, a server and client certificates openssl verifies", "[lab_services][root]") {
  REQUIRE_ROOT();
  TempDir dir;
  Processes p;
  auto start = std::chrono::steady_clock::now();
  Pki pki = make_pki(p, dir / "pki", {"client1", "laptop"});
  auto took = std::chrono::steady_clock::now() - start;
  WARN("make_pki took " << std::chrono::duration_cast<milliseconds>(took).count() << " ms");
  CHECK(took < std::chrono::seconds(3));  // ~0.2 s here; loose for a loaded CI machine
  CHECK(pki.dh_or_empty.empty());
  REQUIRE(pki.clients.size() == 2);
  auto server = capture("", {"openssl", "verify", "-CAfile", pki.ca, "-purpose", "sslserver", pki.server_cert});
  CHECK(server.rc == 0);
  CHECK(capture("", {"openssl", "x509", "-noout", "-subject", "-in", pki.server_cert}).out.find("CN = server") !=
        std::string::npos);
  for (const auto& [name, files] : pki.clients) {
    INFO(name);
    CHECK(capture("", {"openssl", "verify", "-CAfile", pki.ca, "-purpose", "sslclient", files.first}).rc == 0);
    // A client certificate is no server certificate (remote-cert-tls server refuses it).
    CHECK(capture("", {"openssl", "verify", "-CAfile", pki.ca, "-purpose", "sslserver", files.first}).rc != 0);
    CHECK(capture("", {"openssl", "pkey", "-noout", "-in", files.second}).rc == 0);
  }
  CHECK(read_text(pki.tls_crypt).find("BEGIN OpenVPN Static key V1") != std::string::npos);
  CHECK_THROWS_AS(make_pki(p, dir / "bad", {"../x"}), ToolError);
}

TEST_CASE("start_nginx serves a published name to its allowed clients", "[lab_services][root]") {
  REQUIRE_ROOT();
  TempDir dir;
  std::string out = compile_lab(dir);
  TestNetns ns("ngx");
  // The proxy and its backend (vm-intranet:jellyfin) in one namespace, on lo: a LAN client's
  // address (allowed) and an extranet one (not in jellyfin's "from lan, vpn").
  for (const char* a : {"198.18.10.10/32", "198.18.1.20/32", "198.18.1.50/32", "198.18.10.50/32"})
    ns.ip({"addr", "add", a, "dev", "lo"});
  fs::create_directories(dir / "www");
  write_text(dir / "www/index.html", "backend jellyfin\n", 0644);
  Processes p;
  pid_t backend = p.spawn(ns.name, {"/usr/bin/python3", "-m", "http.server", "8096", "--bind", "198.18.1.20",
                                    "--directory", dir / "www"},
                          dir / "backend.log");
  REQUIRE(wait_until(milliseconds(5000), [&] { return listening_tcp_ports(backend).count(8096) > 0; }));

  pid_t nginx = start_nginx(p, ns.name, out + "/nginx", dir / "nginx");
  CHECK(listening_tcp_ports(nginx).count(443) > 0);
  auto curl = [&](const std::string& name, const std::string& from) {
    return capture(ns.name, {"curl", "-sk", "--max-time", "5", "--interface", from, "--resolve",
                             name + ":443:198.18.10.10", "-o", "-", "-w", "\n%{http_code}", "https://" + name + "/"});
  };
  auto lan = curl("jellyfin.home.arpa", "198.18.1.50");
  INFO(lan.out << "\n" << log_tail(dir / "nginx/nginx.log"));
  CHECK(lan.out == "backend jellyfin\n\n200");
  CHECK(curl("jellyfin.home.arpa", "198.18.10.50").out.find("403") != std::string::npos);
  CHECK(curl("unpublished.home.arpa", "198.18.1.50").rc != 0);  // ssl_reject_handshake
  // The certificate nginx presents is the one made for the name.
  auto cert = capture(ns.name, {"sh", "-c",
                                "openssl s_client -connect 198.18.10.10:443 -servername grafana.home.arpa </dev/null "
                                "2>/dev/null | openssl x509 -noout -subject"});
  CHECK(cert.out.find("CN = grafana.home.arpa") != std::string::npos);
  p.stop(nginx);
  CHECK(wait_until(milliseconds(2000), [&] { return pids_in(ns.name) == std::vector<pid_t>{backend}; }));
}

namespace {

// The server in srv (198.19.0.1), a client in cli (198.19.0.2) of the lab policy's VPN.
void check_tunnel(const std::vector<std::string>& tls_options, OpenvpnTls tls, const std::string& tag) {
  TempDir dir;
  Processes p;
  Pki pki = make_pki(p, dir / "pki", {"client1"});
  std::vector<std::string> options = {"--openvpn-ca", pki.ca, "--openvpn-cert", pki.server_cert, "--openvpn-key",
                                      pki.server_key};
  for (const auto& o : tls_options) options.push_back(o == "TC" ? pki.tls_crypt : o);
  std::string out = compile_lab(dir, options);
  TestNetns srv("vs" + tag), cli("vc" + tag);
  link(srv, "198.19.0.1/30", cli, "198.19.0.2/30");
  std::string before = capture("", {"ip", "-o", "link"}).out;

  pid_t server = start_openvpn_server(p, srv.name, out + "/openvpn/server.conf", dir / "server", tls);
  CHECK(p.alive(server));
  bool has_tc = read_text(dir / "server/server.conf").find("\ntls-crypt ") != std::string::npos;
  CHECK(has_tc == (tls == OpenvpnTls::as_compiled));
  // A bare P_CONTROL_HARD_RESET_CLIENT_V2 (what a prober sends) is answered by a
  // P_CONTROL_HARD_RESET_SERVER_V2 (opcode 8) only without tls-crypt.
  auto reset = capture(cli.name, {"/usr/bin/python3", "-c",
                                  "import os, socket\n"
                                  "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                                  "s.settimeout(1.5)\n"
                                  "s.sendto(bytes([7 << 3]) + os.urandom(8) + bytes(5), ('198.19.0.1', 1194))\n"
                                  "try: print('opcode', s.recv(2048)[0] >> 3)\n"
                                  "except socket.timeout: print('silence')\n"});
  CHECK(reset.out == (tls == OpenvpnTls::as_compiled ? "silence\n" : "opcode 8\n"));
  std::string tun;
  pid_t client = start_openvpn_client(p, cli.name, pki, "client1", "198.19.0.1", 1194, dir / "server/server.conf",
                                      dir / "client", tun);
  CHECK(p.alive(client));
  CHECK(tun.rfind("tun", 0) == 0);
  auto routes = capture("", {"ip", "-n", cli.name, "-4", "route", "show", "dev", tun}).out;
  INFO(routes);
  CHECK(routes.find("198.18.10.0/24 via 198.18.8.1") != std::string::npos);  // the pushed extranet
  auto addr = capture("", {"ip", "-n", cli.name, "-4", "-o", "addr", "show", "dev", tun}).out;
  CHECK(addr.find("inet 198.18.8.2/24") != std::string::npos);  // the first address of the pool
  // Through the tunnel: a listener on the server's tun address answers.
  listener(p, srv.name, "198.18.8.1", 7000, dir / "listen.log");
  CHECK(connects(cli.name, "198.18.8.1", "7000"));
  p.stop_all();
  CHECK(pids_in(srv.name).empty());
  CHECK(pids_in(cli.name).empty());
  CHECK(capture("", {"ip", "-o", "link"}).out == before);  // no tun in the root namespace
}

}  // namespace

TEST_CASE("openvpn: compiled without tls-crypt key, the server runs without it and a client connects",
          "[lab_services][root]") {
  REQUIRE_ROOT();
  check_tunnel({}, OpenvpnTls::without_tls_crypt, "a");
}

TEST_CASE("openvpn: compiled with a tls-crypt key, the client mirrors it and connects", "[lab_services][root]") {
  REQUIRE_ROOT();
  check_tunnel({"--openvpn-tls-crypt", "TC"}, OpenvpnTls::as_compiled, "b");
}
