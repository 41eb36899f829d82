// The Docker hole, reproduced with the real ufw and Docker's iptables layout in namespaces, and
// closed by netpol's output for tests/golden/ufw/policies/docker.npol (docs/targets/ufw.md,
// "Docker hosts"). Addresses only from 198.18.0.0/15; every namespace removed, also on failure.
//
//   client A (trusted, 198.18.1.20) --eth0-- VM media (198.18.1.10; ufw; Docker) --eth1-- client B (guests, 198.18.2.20)
//                                                 (also routes A <-> B: forwarding that is not Docker's)
//                                                 docker0 198.18.200.1
//                                                 container 198.18.200.2: 5432 (Postgres), 8096 (Jellyfin)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <regex>
#include <sstream>
#include <algorithm>

#include "docker_layout.h"
#include "lab_services.h"
#include "listener.h"
#include "netlink.h"
#include "netns.h"
#include "output_set.h"
#include "service_files.h"
#include "test_support.h"
#include "ufw_docker.h"
#include "ufw_target.h"

using namespace netpol::live;
using namespace netpol::live::lab;
namespace fs = std::filesystem;

namespace {

constexpr auto kLogTimeout = std::chrono::seconds(20);

// Every namespace and the scratch dir of one run; removed in the destructor, also on failure.
struct DockerLab {
  std::string prefix = "nv-t" + std::to_string(getpid()) + "-";
  std::string vm = prefix + "vm", a = prefix + "a", b = prefix + "b", ct = prefix + "ct";
  std::string scratch = "/tmp/" + prefix + "docker";
  std::unique_ptr<Netlink> netlink = make_libnl_netlink();
  Processes processes;
  DockerLab() {
    for (const auto& ns : {vm, a, b, ct}) netns_delete(ns);
    fs::remove_all(scratch);
    make_dir(scratch, 0700);
  }
  ~DockerLab() {
    processes.stop_all();
    for (const auto& ns : {vm, a, b, ct}) netns_delete(ns);
    std::error_code ec;
    fs::remove_all(scratch, ec);
  }
};

// A TCP exchange with a lab listener: connected and answered "NETVERIFY OK" within ~1.5 s.
bool reaches(const std::string& ns, const std::string& address, std::uint16_t port) {
  bool ok = false;
  run_in_netns(ns, [&] {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, address.c_str(), &to.sin_addr);
    connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
    pollfd p{fd, POLLOUT, 0};
    int error = -1;
    socklen_t len = sizeof error;
    if (poll(&p, 1, 1500) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0) {
      (void)send(fd, "probe\n", 6, MSG_NOSIGNAL);
      std::string reply;
      char buffer[64];
      p = {fd, POLLIN, 0};
      for (int i = 0; i < 10 && poll(&p, 1, 500) == 1; ++i) {  // bounded: a short reply, then EOF
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        reply.append(buffer, static_cast<std::size_t>(n));
      }
      ok = reply.find("NETVERIFY OK") != std::string::npos;
    }
    close(fd);
  });
  return ok;
}

std::string run_output(Processes& processes, const std::string& ns, const std::vector<std::string>& argv,
                       const std::string& log) {
  fs::remove(log);
  int rc = processes.run(ns, argv, log, kLogTimeout);
  if (rc != 0) fail_with_log(argv[0] + " exited " + std::to_string(rc), log);
  return read_text(log);
}

// The root namespace's rules without counters or timestamps.
std::string root_iptables(Processes& processes, const std::string& log) {
  std::string text = run_output(processes, "", {"iptables-save"}, log);
  text = std::regex_replace(text, std::regex("^#.*\n", std::regex::multiline), "");
  return std::regex_replace(text, std::regex("\\[[0-9]+:[0-9]+\\]"), "");
}

void ufw(DockerLab& lab, const std::vector<std::string>& argv) {
  const std::string log = lab.scratch + "/ufw.log";
  if (run_ufw_command(lab.processes, lab.vm, argv, lab.scratch + "/ufw", log) != 0)
    fail_with_log("ufw command failed in " + lab.vm, log);
}

// What `iptables -S CHAIN` prints for the block's lines of CHAIN: "-N CHAIN", then its rules.
std::string chain_of_block(const std::string& block, const std::string& chain) {
  std::string out = "-N " + chain + "\n";
  std::istringstream in(block);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("-A " + chain + " ", 0) == 0) out += line + "\n";
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The widespread after.rules recipe, in its essentials: sources in the private ranges are
// RETURNed to Docker's own accept rules before ufw is asked. The lab's 198.18.0.0/15 stands in
// for the home LAN's 192.168.0.0/16 (the lab uses no other addresses).
const char* kUsualRecipe = R"(# usual recipe
*filter
:ufw-user-forward - [0:0]
:DOCKER-USER - [0:0]
-A DOCKER-USER -s 10.0.0.0/8 -j RETURN
-A DOCKER-USER -s 172.16.0.0/12 -j RETURN
-A DOCKER-USER -s 198.18.0.0/15 -j RETURN
-A DOCKER-USER -j ufw-user-forward
-A DOCKER-USER -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -d 198.18.200.0/24 -j DROP
-A DOCKER-USER -j RETURN
COMMIT
)";

}  // namespace

TEST_CASE("docker lab: ufw alone leaves published ports open; netpol's Docker-aware ufw lets only the policy in",
          "[docker][lab]") {
  if (geteuid() != 0) {
    WARN("SKIPPED: needs root (network namespaces, iptables)");
    return;
  }
  // The policy, compiled as `netpolc compile` does, only the ufw target.
  auto compilation = netpol::testing::compile_repo_file("tests/golden/ufw/policies/docker.npol");
  REQUIRE(compilation->ok());
  netpol::OutputSet out;
  netpol::emit_ufw(compilation->policy, out, compilation->diags);
  REQUIRE(out.count("ufw/media.sh") == 1);

  DockerLab lab;
  const std::string root_before = root_iptables(lab.processes, lab.scratch + "/root.log");
  const std::string script = lab.scratch + "/media.sh";
  write_text(script, out.at("ufw/media.sh"), 0700);

  // The wires: A and B on two interfaces of the VM.
  for (const auto& ns : {lab.vm, lab.a, lab.b, lab.ct}) netns_add(ns);
  auto& nl = *lab.netlink;
  for (const auto& ns : {lab.vm, lab.a, lab.b}) nl.set_up(ns, "lo");
  nl.add_veth(lab.vm, "eth0", lab.a, "eth0");
  nl.add_veth(lab.vm, "eth1", lab.b, "eth0");
  nl.add_address(lab.vm, "eth0", "198.18.1.10/24");
  nl.add_address(lab.vm, "eth1", "198.18.2.10/24");
  nl.add_address(lab.a, "eth0", "198.18.1.20/24");
  nl.add_address(lab.b, "eth0", "198.18.2.20/24");
  for (const auto& [ns, link] : {std::pair{lab.vm, "eth0"}, {lab.vm, "eth1"}, {lab.a, "eth0"}, {lab.b, "eth0"}})
    nl.set_up(ns, link);
  nl.add_route(lab.a, "default", "198.18.1.10", "eth0");
  nl.add_route(lab.b, "default", "198.18.2.10", "eth0");

  // Docker: a container publishing Postgres and Jellyfin on all addresses.
  DockerHost docker;
  docker.host_ns = lab.vm;
  docker.gateway_cidr = "198.18.200.1/24";
  docker.container_ns = {lab.ct};
  docker.containers = {{"198.18.200.2", {{"tcp", 5432, 5432}, {"tcp", 8096, 8096}}}};
  build_docker_host(nl, lab.processes, docker, lab.scratch + "/docker");

  TokenLog tokens;
  std::unique_ptr<Listener> in_container, on_vm, on_a, on_b;
  run_in_netns(lab.ct, [&] { in_container = Listener::start({{"0.0.0.0", L4::tcp, 5432}, {"0.0.0.0", L4::tcp, 8096}}, tokens); });
  run_in_netns(lab.vm, [&] { on_vm = Listener::start({{"0.0.0.0", L4::tcp, 9999}}, tokens); });
  run_in_netns(lab.a, [&] { on_a = Listener::start({{"0.0.0.0", L4::tcp, 7000}}, tokens); });
  run_in_netns(lab.b, [&] { on_b = Listener::start({{"0.0.0.0", L4::tcp, 7000}, {"0.0.0.0", L4::tcp, 8096}}, tokens); });
  const std::string media = "198.18.1.10";
  const std::string log = lab.scratch + "/iptables.log";

  // 1. The hole: ufw denies incoming except ssh, yet a guest reaches the published ports.
  ufw(lab, {"ufw", "default", "deny", "incoming"});
  ufw(lab, {"ufw", "allow", "22/tcp"});
  ufw(lab, {"ufw", "--force", "enable"});
  auto forward = run_output(lab.processes, lab.vm, {"iptables", "-w", "-S", "FORWARD"}, log);
  CHECK(forward.find("-A FORWARD -j DOCKER-USER\n") < forward.find("-j ufw-before-logging-forward"));
  CHECK_FALSE(reaches(lab.b, media, 9999));  // ufw is on: a port on the VM itself is closed
  CHECK(reaches(lab.b, media, 5432));        // the hole: Postgres, to a forbidden source
  CHECK(reaches(lab.b, media, 8096));
  CHECK(reaches(lab.ct, "198.18.2.20", 7000));  // and containers reach anything

  // 2. The usual recipe: DOCKER-USER asks ufw, but private sources skip the question.
  const std::string after = lab.scratch + "/ufw/etc-ufw/after.rules";
  const std::string pristine = read_text("/usr/share/ufw/iptables/after.rules");
  REQUIRE_FALSE(pristine.empty());
  write_text(after, pristine + kUsualRecipe, 0640);
  ufw(lab, {"ufw", "reload"});
  CHECK(run_output(lab.processes, lab.vm, {"iptables", "-w", "-S", "DOCKER-USER"}, log).find("-s 198.18.0.0/15 -j RETURN") !=
        std::string::npos);
  CHECK(reaches(lab.b, media, 5432));  // the guest is "private": still in
  write_text(after, pristine, 0640);

  // 3. netpol's script, with ufw running (the update path: the block goes in, then ufw reload).
  apply_ufw_script(lab.processes, lab.vm, script, lab.scratch + "/ufw");
  // ufw rewrote user.rules itself: its tuples are ours, byte for byte (route rules included).
  auto tuple_lines = [](const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("### tuple ###", 0) == 0) lines.push_back(line);
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  auto ours = tuple_lines(out.at("ufw/media.rules"));
  CHECK(ours.size() == 3);  // in tcp 22,8096; out udp 53; out tcp 7000: no route rules
  CHECK(tuple_lines(read_text(lab.scratch + "/ufw/etc-ufw/user.rules")) == ours);
  const std::string installed = read_text(after);
  CHECK(installed.rfind(pristine, 0) == 0);  // the rest of after.rules kept
  CHECK(count(installed, netpol::ufw::kAfterRulesBegin) == 1);
  // The live chains are the block's lines exactly (the block is written in iptables-save's form).
  const std::string& block = out.at("ufw/media.after.rules");
  auto chain = [&](const std::string& name) {
    return run_output(lab.processes, lab.vm, {"iptables", "-w", "-S", name}, log);
  };
  const std::string user = chain("DOCKER-USER");
  CHECK(user == chain_of_block(block, "DOCKER-USER"));
  CHECK(chain(netpol::ufw::kDockerInChain) == chain_of_block(block, netpol::ufw::kDockerInChain));
  CHECK(chain(netpol::ufw::kDockerOutChain) == chain_of_block(block, netpol::ufw::kDockerOutChain));
  CHECK(count(user, "\n-A ") == 5);
  CHECK(chain("ufw-user-forward").find("-A ufw-user-forward") == std::string::npos);  // no route rules
  CHECK(run_output(lab.processes, lab.vm, {"sysctl", "-n", "net.ipv4.ip_forward"}, log) == "1\n");
  CHECK_FALSE(reaches(lab.b, media, 5432));  // Postgres: allowed by no flow, from nobody
  CHECK_FALSE(reaches(lab.a, media, 5432));
  CHECK(reaches(lab.a, media, 8096));        // Jellyfin: from the trusted zone only
  CHECK_FALSE(reaches(lab.b, media, 8096));
  CHECK_FALSE(reaches(lab.a, media, 9999));  // the VM's own ports: ufw as before
  CHECK(reaches(lab.ct, "198.18.1.20", 7000));        // containers: out to the trusted zone's 7000
  CHECK_FALSE(reaches(lab.ct, "198.18.2.20", 7000));  // and nowhere else

  // 4. Re-run: nothing changes, one block, same verdicts.
  apply_ufw_script(lab.processes, lab.vm, script, lab.scratch + "/ufw");
  CHECK(read_text(after) == installed);
  CHECK(run_output(lab.processes, lab.vm, {"iptables", "-w", "-S", "DOCKER-USER"}, log) == user);
  CHECK(reaches(lab.a, media, 8096));
  CHECK_FALSE(reaches(lab.b, media, 8096));

  // 4b. Forwarding that is not Docker's (A <-> B through the VM, as a VPN server's tunnel) is left
  //     to ufw's own FORWARD rules: the policy's trusted -> media:8096 does not become
  //     trusted -> anywhere:8096, nor does media -> trusted:7000 let guests reach trusted:7000.
  CHECK_FALSE(reaches(lab.a, "198.18.2.20", 8096));
  CHECK_FALSE(reaches(lab.b, "198.18.1.20", 7000));
  CHECK_FALSE(reaches(lab.a, "198.18.2.20", 7000));  // ufw's default deny routed
  const std::vector<std::string> route = {"route", "allow", "in", "on", "eth0", "out", "on", "eth1", "from", "198.18.1.20",
                                          "to", "198.18.2.20", "port", "7000", "proto", "tcp"};
  std::vector<std::string> add = {"ufw"}, remove = {"ufw", "route", "delete"};
  add.insert(add.end(), route.begin(), route.end());
  remove.insert(remove.end(), route.begin() + 1, route.end());
  ufw(lab, add);
  CHECK(reaches(lab.a, "198.18.2.20", 7000));  // ufw's route rule decides
  CHECK_FALSE(reaches(lab.a, "198.18.2.20", 8096));
  CHECK(reaches(lab.a, media, 8096));  // and Docker's traffic is as before
  CHECK_FALSE(reaches(lab.b, media, 8096));
  ufw(lab, remove);
  CHECK_FALSE(reaches(lab.a, "198.18.2.20", 7000));

  // 5. ufw disabled: the block's chains stay (ufw removes only its own), so published ports
  //    still obey the policy (fail closed).
  ufw(lab, {"ufw", "--force", "disable"});
  CHECK(chain("DOCKER-USER") == user);
  CHECK(reaches(lab.a, media, 8096));
  CHECK_FALSE(reaches(lab.b, media, 8096));
  CHECK_FALSE(reaches(lab.b, media, 5432));

  // 6. A first install (ufw off, pristine after.rules, Docker's default DOCKER-USER): the script's
  //    final enable loads the block.
  write_text(after, pristine, 0640);
  run_output(lab.processes, lab.vm, {"iptables", "-w", "-F", "DOCKER-USER"}, log);
  run_output(lab.processes, lab.vm, {"iptables", "-w", "-A", "DOCKER-USER", "-j", "RETURN"}, log);
  CHECK(reaches(lab.b, media, 9999));  // ufw off: everything open
  CHECK(reaches(lab.b, media, 5432));
  apply_ufw_script(lab.processes, lab.vm, script, lab.scratch + "/ufw");
  CHECK(reaches(lab.a, media, 8096));
  CHECK_FALSE(reaches(lab.b, media, 8096));
  CHECK_FALSE(reaches(lab.b, media, 5432));

  in_container.reset();
  on_vm.reset();
  on_a.reset();
  on_b.reset();
  CHECK(root_iptables(lab.processes, lab.scratch + "/root.log") == root_before);
}
