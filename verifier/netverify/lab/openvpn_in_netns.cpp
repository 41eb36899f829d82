// The real openvpn server (the compiled server.conf) and clients, in lab namespaces (the
// knowledge of tests/lab/openvpn_lab_test.sh). DCO is off: the kernel module is not there, and
// a userspace tun works in any namespace. The server drops to nobody after start and reads ccd/
// at each connect, so its work dir must be traversable by everybody.
#include <filesystem>
#include <regex>
#include <sstream>

#include "lab_services.h"
#include "service_files.h"

namespace netpol::live::lab {

namespace {

namespace fs = std::filesystem;
constexpr std::chrono::seconds kReadyTimeout{10};
constexpr const char* kReady = "Initialization Sequence Completed";

std::vector<std::string> words_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The options of a config file: option name -> its words (the last occurrence wins).
std::map<std::string, std::vector<std::string>> options_of(const std::string& conf) {
  std::map<std::string, std::vector<std::string>> out;
  std::istringstream lines(read_text(conf));
  for (std::string line; std::getline(lines, line);) {
    auto words = words_of(line);
    if (words.empty() || words[0][0] == '#' || words[0][0] == ';') continue;
    out[words[0]] = std::vector<std::string>(words.begin() + 1, words.end());
  }
  return out;
}

// Waits until the log says the tunnel is ready; throws with the log tail if it exits or times out.
void wait_ready(Processes& processes, pid_t pid, const std::string& log, const std::string& what) {
  bool done = wait_until(kReadyTimeout, [&] {
    return !processes.alive(pid) || read_text(log).find(kReady) != std::string::npos;
  });
  if (done && processes.alive(pid)) return;
  processes.stop(pid);
  fail_with_log(what + (done ? " exited" : " was not ready within 10 s"), log);
}

void copy_tree_readable(const fs::path& from, const fs::path& to) {
  make_dir(to.string(), 0755);
  for (const auto& entry : fs::directory_iterator(from)) {
    if (entry.is_directory()) continue;
    write_text((to / entry.path().filename()).string(), read_text(entry.path().string()), 0644);
  }
}

}  // namespace

pid_t start_openvpn_server(Processes& processes, const std::string& ns, const std::string& server_conf,
                           const std::string& work_in, OpenvpnTls tls) {
  const std::string work = fs::absolute(work_in).lexically_normal().string();
  std::string compiled = read_text(server_conf);
  if (compiled.find("\ndev ") == std::string::npos) throw ToolError("start_openvpn_server: no server.conf at " + server_conf);
  make_dir(work, 0755);
  std::istringstream lines(compiled);
  std::string conf;
  for (std::string line; std::getline(lines, line);) {
    auto words = words_of(line);
    if (tls == OpenvpnTls::without_tls_crypt && !words.empty() && words[0] == "tls-crypt") {
      conf += "# tls-crypt left out by the netverify lab (plain hard-reset probes)\n";
      continue;
    }
    conf += line + "\n";
  }
  write_text(work + "/server.conf", conf, 0644);
  const fs::path ccd = fs::path(server_conf).parent_path() / "ccd";
  if (fs::is_directory(ccd)) copy_tree_readable(ccd, fs::path(work) / "ccd");

  const std::string log = work + "/openvpn.log";
  write_text(log, "", 0600);
  pid_t pid = processes.spawn(
      ns, {"openvpn", "--cd", work, "--config", "server.conf", "--disable-dco", "--verb", "3"}, log);
  wait_ready(processes, pid, log, "openvpn server in " + ns);
  return pid;
}

pid_t start_openvpn_client(Processes& processes, const std::string& ns, const Pki& pki,
                           const std::string& client_name, const std::string& remote, std::uint16_t port,
                           const std::string& server_conf, const std::string& work_in, std::string& tun_name) {
  auto cert = pki.clients.find(client_name);
  if (cert == pki.clients.end()) throw ToolError("start_openvpn_client: '" + client_name + "' is not a client of the PKI");
  if (!plain_word(remote) || port == 0) throw ToolError("start_openvpn_client: bad remote '" + remote + "'");
  const std::string work = fs::absolute(work_in).lexically_normal().string();
  auto server = options_of(server_conf);
  if (server.count("dev") == 0) throw ToolError("start_openvpn_client: no server.conf at " + server_conf);

  // What the server expects of its clients, mirrored from its configuration.
  std::string proto = server.count("proto") && !server["proto"].empty() ? server["proto"][0] : "udp";
  if (proto.rfind("tcp", 0) == 0) proto = proto.substr(0, proto.find('-')) + "-client";
  std::string conf = "client\ndev tun\nproto " + proto + "\nremote " + remote + " " + std::to_string(port) +
                     "\nnobind\nremote-cert-tls server\nconnect-retry 1\n";
  conf += "ca " + pki.ca + "\ncert " + cert->second.first + "\nkey " + cert->second.second + "\n";
  for (const char* option : {"tls-crypt", "data-ciphers", "data-ciphers-fallback", "cipher", "auth", "tls-version-min"}) {
    auto it = server.find(option);
    if (it == server.end()) continue;
    conf += option;
    for (const auto& w : it->second) conf += " " + w;
    conf += "\n";
  }
  make_dir(work, 0755);
  const std::string conf_path = work + "/client-" + client_name + ".conf";
  write_text(conf_path, conf, 0600);
  const std::string log = work + "/openvpn-client-" + client_name + ".log";
  write_text(log, "", 0600);
  pid_t pid = processes.spawn(ns, {"openvpn", "--config", conf_path, "--disable-dco", "--verb", "3"}, log);
  wait_ready(processes, pid, log, "openvpn client " + client_name + " in " + ns);

  static const std::regex opened("TUN/TAP device (\\S+) opened");
  std::smatch match;
  std::string text = read_text(log);
  if (!std::regex_search(text, match, opened)) {
    processes.stop(pid);
    fail_with_log("openvpn client " + client_name + ": no TUN/TAP device in its log", log);
  }
  tun_name = match[1];
  return pid;
}

}  // namespace netpol::live::lab
