// nginx on the compiled out/nginx/*.conf, unchanged, under a private prefix (the knowledge of
// tests/lab/nginx_env.sh): a minimal nginx.conf that includes them, and a self-signed certificate
// wherever their ssl_certificate lines say. Nothing outside `work` is read or written: the error
// log goes to stderr (-e), temp paths and the pid file are relative to the prefix.
#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "lab_services.h"
#include "service_files.h"

namespace netpol::live::lab {

namespace {

namespace fs = std::filesystem;
constexpr std::chrono::seconds kStartTimeout{5};
constexpr std::chrono::seconds kOpensslTimeout{20};

constexpr const char* kNginxConf = R"(# netverify lab: the compiled server blocks are included unchanged.
user root root;
worker_processes 1;
pid nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    include servers/*.conf;
}
)";

// The words of a directive line ("    listen [::]:443 ssl;" -> {"listen", "[::]:443", "ssl"}).
std::vector<std::string> directive(const std::string& line) {
  std::string text = line.substr(0, line.find('#'));
  std::size_t semi = text.rfind(';');
  if (semi == std::string::npos) return {};
  std::istringstream words(text.substr(0, semi));
  std::vector<std::string> out;
  for (std::string w; words >> w;) out.push_back(w);
  return out;
}

// "443", "[::]:443", "198.18.10.10:443" -> 443; 0 for a unix socket or garbage.
std::uint16_t listen_port(const std::string& address) {
  std::string port = address.substr(address.rfind(':') == std::string::npos ? 0 : address.rfind(':') + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return 0;
  unsigned long value = std::stoul(port);
  return value > 0 && value <= 65535 ? static_cast<std::uint16_t>(value) : 0;
}

struct Site {
  std::string name, cert;  // cert: relative path of ssl_certificate, "" without TLS
};

// Reads one compiled file: its server blocks' names and certificates, and every listen port.
void read_conf(const std::string& path, std::vector<Site>& sites, std::set<std::uint16_t>& ports) {
  std::istringstream lines(read_text(path));
  Site current;
  for (std::string line; std::getline(lines, line);) {
    auto words = directive(line);
    if (words.size() >= 2 && words[0] == "listen") {
      std::uint16_t port = listen_port(words[1]);
      if (port == 0) throw ToolError("start_nginx: cannot read the port of '" + line + "' in " + path);
      ports.insert(port);
    } else if (words.size() == 2 && words[0] == "server_name") {
      current.name = words[1];
    } else if (words.size() == 2 && words[0] == "ssl_certificate") {
      current.cert = words[1];
    }
    if (line.rfind("}", 0) == 0) {  // the end of a server block (the compiled files indent inside)
      if (!current.cert.empty()) sites.push_back(current);
      current = {};
    }
  }
}

// A self-signed certificate for site.name at work/<cert> and its key beside it (<cert>.key for
// <name>.crt, the compiled ssl_certificate_key path).
void self_signed(Processes& processes, const std::string& work, const Site& site, const std::string& log) {
  const std::string& cert = site.cert;
  if (cert.front() == '/' || cert.find("..") != std::string::npos || !plain_word(cert) || cert.size() < 5 ||
      cert.compare(cert.size() - 4, 4, ".crt") != 0)
    throw ToolError("start_nginx: certificate path '" + cert + "' is not a relative <name>.crt");
  if (!plain_word(site.name) || site.name.find('/') != std::string::npos)
    throw ToolError("start_nginx: unexpected server_name '" + site.name + "'");
  const fs::path crt = fs::path(work) / cert;
  make_dir(crt.parent_path().string(), 0700);
  fs::path key = crt;
  key.replace_extension(".key");
  int rc = processes.run("",
                         {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                          "-nodes", "-days", "2", "-subj", "/CN=" + site.name, "-addext",
                          "subjectAltName=DNS:" + site.name, "-keyout", key.string(), "-out", crt.string()},
                         log, kOpensslTimeout);
  if (rc != 0) fail_with_log("start_nginx: openssl failed for " + site.name, log);
}

}  // namespace

pid_t start_nginx(Processes& processes, const std::string& ns, const std::string& compiled_nginx_dir,
                  const std::string& work_in) {
  const std::string work = fs::absolute(work_in).lexically_normal().string();
  std::vector<fs::path> confs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(compiled_nginx_dir, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".conf") confs.push_back(entry.path());
  if (ec || confs.empty()) throw ToolError("start_nginx: no .conf files in " + compiled_nginx_dir);
  std::sort(confs.begin(), confs.end());

  make_dir(work, 0700);
  make_dir(work + "/servers", 0700);
  make_dir(work + "/tmp", 0700);
  write_text(work + "/nginx.conf", kNginxConf, 0644);
  std::vector<Site> sites;
  std::set<std::uint16_t> ports;
  for (const auto& conf : confs) {
    fs::copy_file(conf, fs::path(work) / "servers" / conf.filename(), fs::copy_options::overwrite_existing, ec);
    if (ec) throw ToolError("start_nginx: copy " + conf.string() + ": " + ec.message());
    read_conf(conf.string(), sites, ports);
  }
  if (ports.empty()) throw ToolError("start_nginx: no listen lines in " + compiled_nginx_dir);
  const std::string log = work + "/nginx.log";
  for (const auto& site : sites) self_signed(processes, work, site, work + "/openssl.log");

  pid_t pid = processes.spawn(ns, {"nginx", "-p", work + "/", "-c", "nginx.conf", "-e", "stderr", "-g", "daemon off;"},
                              log);
  bool listening = wait_until(kStartTimeout, [&] {
    if (!processes.alive(pid)) return true;
    auto bound = listening_tcp_ports(pid);
    return std::includes(bound.begin(), bound.end(), ports.begin(), ports.end());
  });
  if (!processes.alive(pid)) fail_with_log("nginx in " + ns + " exited at start", log);
  if (!listening) {
    processes.stop(pid);
    fail_with_log("nginx in " + ns + " did not listen on every port within 5 s", log);
  }
  return pid;
}

}  // namespace netpol::live::lab
