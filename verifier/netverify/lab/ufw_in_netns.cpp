// The real ufw inside a lab namespace, with a private configuration (the knowledge of
// tests/lab/netns.sh: lab_ufw_prepare, lab_ufw_ns). What ufw writes (strace-checked there):
// /etc/ufw/{user,user6}.rules and ufw.conf, /etc/default/ufw, /run/ufw.lock, temp files in
// $TMPDIR, and the keys of /etc/ufw/sysctl.conf under /proc/sys/net (per namespace). So a private
// mount namespace binds scratch copies over /etc/ufw, /etc/default/ufw and /run, sets TMPDIR, and
// leaves /proc/sys read-only except /proc/sys/net.
#include <filesystem>
#include <sstream>

#include "lab_services.h"
#include "service_files.h"

namespace netpol::live::lab {

namespace {

namespace fs = std::filesystem;
constexpr std::chrono::seconds kUfwTimeout{120};   // a reset + enable of a big policy takes seconds
constexpr std::chrono::seconds kIptablesTimeout{20};
constexpr const char* kBypassComment = "netverify-lab-bypass";

void require_lab_namespace(const std::string& ns) {
  if (ns.empty()) throw ToolError("refusing to run ufw/iptables outside a lab namespace");
}

// ufw's sysctl.conf is applied with `sysctl -p` inside the namespace: only net.* keys are per
// namespace, anything else would change the host.
void check_sysctl_conf(const std::string& path) {
  std::istringstream lines(read_text(path));
  std::string line;
  while (std::getline(lines, line)) {
    std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#' || line[start] == ';') continue;
    if (line.compare(start, 4, "net.") != 0 && line.compare(start, 4, "net/") != 0)
      throw ToolError("refusing: " + path + " sets a non-network key: " + line);
  }
}

// /etc/default/ufw with IPT_SYSCTL pinned to the private copy and no kernel modules loaded.
std::string private_default_ufw() {
  std::istringstream lines(read_text("/etc/default/ufw"));
  if (lines.str().empty()) throw ToolError("cannot read /etc/default/ufw (is ufw installed?)");
  std::string line, out;
  while (std::getline(lines, line)) {
    if (line.rfind("IPT_SYSCTL=", 0) == 0) line = "IPT_SYSCTL=/etc/ufw/sysctl.conf";
    if (line.rfind("IPT_MODULES=", 0) == 0) line = "IPT_MODULES=\"\"";
    out += line + "\n";
  }
  return out;
}

void copy_file(const fs::path& from, const fs::path& to, fs::perms mode) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) throw ToolError("copy " + from.string() + " -> " + to.string() + ": " + ec.message());
  fs::permissions(to, mode, ec);
}

// scratch/{etc-ufw, default-ufw, run, tmp}: pristine packaged rules and ufw.conf (ENABLED=no),
// independent of any edit of the host's /etc/ufw. Made once; later calls reuse it.
void prepare_scratch(const std::string& scratch) {
  const fs::path dir(scratch);
  if (fs::exists(dir / "etc-ufw") && fs::exists(dir / "default-ufw")) return;
  make_dir(scratch, 0700);
  make_dir((dir / "run").string(), 0700);
  make_dir((dir / "tmp").string(), 01777);
  std::error_code ec;
  fs::copy("/etc/ufw", dir / "etc-ufw", fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
  if (ec) throw ToolError("copy /etc/ufw: " + ec.message());
  const auto rw_r = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read;
  for (const char* t : {"before", "after", "user", "before6", "after6", "user6"})
    copy_file(fs::path("/usr/share/ufw/iptables") / (std::string(t) + ".rules"),
              dir / "etc-ufw" / (std::string(t) + ".rules"), rw_r);
  copy_file("/usr/share/ufw/ufw.conf", dir / "etc-ufw" / "ufw.conf", rw_r | fs::perms::others_read);
  write_text((dir / "default-ufw").string(), private_default_ufw(), 0644);
}

Processes::Command ufw_command(const std::string& ns, const std::vector<std::string>& argv,
                               const std::string& scratch, const std::string& log) {
  require_lab_namespace(ns);
  prepare_scratch(scratch);
  check_sysctl_conf(scratch + "/etc-ufw/sysctl.conf");
  if (read_text(scratch + "/default-ufw").find("\nIPT_SYSCTL=/etc/ufw/sysctl.conf\n") == std::string::npos)
    throw ToolError("refusing: IPT_SYSCTL of " + scratch + "/default-ufw was changed");
  Processes::Command c;
  c.ns = ns;
  c.argv = argv;
  c.log = log;
  c.mounts = {{scratch + "/etc-ufw", "/etc/ufw", false},
              {scratch + "/default-ufw", "/etc/default/ufw", false},
              {"/proc/sys", "/proc/sys", true},
              {"/proc/sys/net", "/proc/sys/net", false},
              {scratch + "/run", "/run", false}};
  c.env = {"TMPDIR=" + scratch + "/tmp"};
  return c;
}

}  // namespace

int run_ufw_command(Processes& processes, const std::string& ns, const std::vector<std::string>& argv,
                    const std::string& scratch, const std::string& log) {
  return processes.run(ufw_command(ns, argv, scratch, log), kUfwTimeout);
}

void apply_ufw_script(Processes& processes, const std::string& ns, const std::string& script,
                      const std::string& scratch) {
  if (!fs::is_regular_file(script)) throw ToolError("no ufw script " + script);
  const std::string log = scratch + "/ufw-apply.log";
  int rc = run_ufw_command(processes, ns, {"sh", "-e", script}, scratch, log);
  if (rc != 0)
    fail_with_log("ufw script " + script + " in " + ns + " failed" +
                      (rc == Processes::kTimedOut ? " (timed out)" : " (exit " + std::to_string(rc) + ")"),
                  log);
}

void apply_ufw_rules_files(Processes& processes, const std::string& ns, const std::string& rules,
                           const std::string& rules6, const std::string& scratch) {
  for (const auto& file : {rules, rules6})
    if (read_text(file).find("*filter") == std::string::npos) throw ToolError("no ufw rules file " + file);
  require_lab_namespace(ns);
  prepare_scratch(scratch);
  write_text(scratch + "/etc-ufw/user.rules", read_text(rules), 0640);
  write_text(scratch + "/etc-ufw/user6.rules", read_text(rules6), 0640);
  std::istringstream lines(read_text(scratch + "/default-ufw"));
  std::string line, defaults;
  while (std::getline(lines, line)) {
    for (const char* key : {"DEFAULT_INPUT_POLICY=", "DEFAULT_OUTPUT_POLICY=", "DEFAULT_FORWARD_POLICY="})
      if (line.rfind(key, 0) == 0) line = std::string(key) + "\"DROP\"";
    defaults += line + "\n";
  }
  write_text(scratch + "/default-ufw", defaults, 0644);
  const std::string log = scratch + "/ufw-apply.log";
  int rc = run_ufw_command(processes, ns, {"ufw", "--force", "enable"}, scratch, log);
  if (rc != 0) fail_with_log("ufw --force enable with " + rules + " in " + ns + " failed", log);
}

void bypass_vm_firewall(Processes& processes, const std::string& ns, bool bypass, const std::string& scratch) {
  require_lab_namespace(ns);
  make_dir(scratch, 0700);
  const std::string log = scratch + "/bypass.log";
  for (const char* tool : {"iptables", "ip6tables"}) {
    for (const char* chain : {"INPUT", "FORWARD", "OUTPUT"}) {
      auto rule = [&](const char* op, std::vector<std::string> position) {
        std::vector<std::string> argv = {tool, "-w", op, chain};
        argv.insert(argv.end(), position.begin(), position.end());
        for (const char* w : {"-m", "comment", "--comment", kBypassComment, "-j", "ACCEPT"}) argv.push_back(w);
        return processes.run(ns, argv, log, kIptablesTimeout);
      };
      bool present = rule("-C", {}) == 0;
      if (bypass && !present && rule("-I", {"1"}) != 0)
        fail_with_log(std::string("bypass: ") + tool + " -I " + chain + " in " + ns + " failed", log);
      // -D removes one copy per call: bounded, in case someone added it twice.
      for (int i = 0; !bypass && present && i < 8; ++i) present = rule("-D", {}) == 0 && rule("-C", {}) == 0;
      if (!bypass && present)
        fail_with_log(std::string("bypass: ") + tool + " -D " + chain + " in " + ns + " failed", log);
    }
  }
}

}  // namespace netpol::live::lab
