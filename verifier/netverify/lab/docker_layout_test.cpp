// Docker's layout as text: the order Docker uses, one DNAT and one filter ACCEPT per published
// port (the filter rule on the container's port, after DNAT), and the real iptables-restore
// accepting it in a scratch namespace.
#include "docker_layout.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "netns.h"
#include "service_files.h"

using namespace netpol::live;
using namespace netpol::live::lab;

namespace {

const std::vector<Container> kContainers = {{"198.18.200.2", {{"tcp", 5432, 5432}, {"udp", 8053, 53}}}};

}  // namespace

TEST_CASE("docker layout: nat DOCKER chain with a DNAT per published port", "[docker]") {
  auto text = docker_iptables("docker0", "198.18.200.1/24", kContainers);
  CHECK(text.rfind("*nat\n:DOCKER - [0:0]\n", 0) == 0);
  CHECK(text.find("-I PREROUTING 1 -m addrtype --dst-type LOCAL -j DOCKER\n") != std::string::npos);
  CHECK(text.find("-I OUTPUT 1 ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER\n") != std::string::npos);
  CHECK(text.find("-I POSTROUTING 1 -s 198.18.200.0/24 ! -o docker0 -j MASQUERADE\n") != std::string::npos);
  CHECK(text.find("-A DOCKER -i docker0 -j RETURN\n") < text.find("-j DNAT"));
  CHECK(text.find("-A DOCKER ! -i docker0 -p tcp -m tcp --dport 5432 -j DNAT --to-destination 198.18.200.2:5432\n") !=
        std::string::npos);
  CHECK(text.find("-A DOCKER ! -i docker0 -p udp -m udp --dport 8053 -j DNAT --to-destination 198.18.200.2:53\n") !=
        std::string::npos);
}

TEST_CASE("docker layout: FORWARD -> DOCKER-USER first, then isolation, then the bridge's accepts", "[docker]") {
  auto text = docker_iptables("docker0", "198.18.200.1/24", kContainers);
  const std::vector<std::string> forward = {
      "-I FORWARD 1 -j DOCKER-USER",
      "-I FORWARD 2 -j DOCKER-ISOLATION-STAGE-1",
      "-I FORWARD 3 -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
      "-I FORWARD 4 -o docker0 -j DOCKER",
      "-I FORWARD 5 -i docker0 ! -o docker0 -j ACCEPT",
      "-I FORWARD 6 -i docker0 -o docker0 -j ACCEPT"};
  for (std::size_t i = 0; i < forward.size(); ++i) {
    INFO(forward[i]);
    REQUIRE(text.find(forward[i] + "\n") != std::string::npos);
    if (i > 0) CHECK(text.find(forward[i - 1]) < text.find(forward[i]));
  }
  CHECK(text.find("*filter\n") > text.find("*nat\n"));
  CHECK(text.find("-A DOCKER -d 198.18.200.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 5432 -j ACCEPT\n") !=
        std::string::npos);
  CHECK(text.find("-A DOCKER -d 198.18.200.2/32 ! -i docker0 -o docker0 -p udp -m udp --dport 53 -j ACCEPT\n") !=
        std::string::npos);
  CHECK(text.find("-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2\n") !=
        std::string::npos);
  CHECK(text.find("-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP\n") != std::string::npos);
  CHECK(text.find("-A DOCKER-USER -j RETURN\nCOMMIT\n") != std::string::npos);
  CHECK(text.find("172.17.") == std::string::npos);
}

TEST_CASE("docker layout: a bad bridge address is refused", "[docker]") {
  CHECK_THROWS_AS(docker_iptables("docker0", "198.18.200.1", kContainers), ToolError);
  CHECK_THROWS_AS(docker_iptables("docker0", "nonsense/24", kContainers), ToolError);
}

TEST_CASE("docker layout: the real iptables-restore loads it in a scratch namespace", "[docker][lab]") {
  if (geteuid() != 0) {
    WARN("SKIPPED: needs root");
    return;
  }
  const std::string ns = "nv-t" + std::to_string(getpid()) + "-layout";
  const std::string scratch = "/tmp/" + ns;
  struct Guard {
    std::string ns, scratch;
    ~Guard() {
      netns_delete(ns);
      std::error_code ec;
      std::filesystem::remove_all(scratch, ec);
    }
  } guard{ns, scratch};
  netns_add(ns);
  make_dir(scratch, 0700);
  write_text(scratch + "/rules", docker_iptables("docker0", "198.18.200.1/24", kContainers), 0600);
  Processes processes;
  const std::string log = scratch + "/log";
  REQUIRE(processes.run(ns, {"iptables-restore", "-w", "--noflush", scratch + "/rules"}, log, std::chrono::seconds(20)) == 0);
  REQUIRE(processes.run(ns, {"iptables", "-w", "-S", "FORWARD"}, log, std::chrono::seconds(20)) == 0);
  auto listing = read_text(log);
  CHECK(listing.find("-A FORWARD -j DOCKER-USER\n-A FORWARD -j DOCKER-ISOLATION-STAGE-1\n") != std::string::npos);
}
