// The compose reader: every `ports` form, `expose`, `network_mode: host`, profiles, places, bad input.
#include "compose_reader.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "compose_codes.h"
#include "compose_test_support.h"

using namespace netpol;
using namespace netpol::compose;
using compose::testing::codes;
using compose::testing::read_text;

namespace {
std::string show(const ShortPort& p) {
  std::string out = p.host_ip + "|" + (p.host ? range_text(*p.host) : "random") + "|" + range_text(p.container);
  return out + "|" + ir::to_string(p.proto);
}
std::string parse_ok(const std::string& text) {
  std::string error;
  auto p = parse_short_port(text, error);
  INFO(text << ": " << error);
  CHECK(error.empty());
  return show(p);
}
std::string parse_error(const std::string& text) {
  std::string error;
  parse_short_port(text, error);
  return error;
}
}  // namespace

TEST_CASE("short ports syntax: every form", "[compose][reader]") {
  CHECK(parse_ok("8096:8096") == "|8096|8096|tcp");
  CHECK(parse_ok("8080:80") == "|8080|80|tcp");
  CHECK(parse_ok("127.0.0.1:5432:5432") == "127.0.0.1|5432|5432|tcp");
  CHECK(parse_ok("[::1]:6001:6001") == "::1|6001|6001|tcp");
  CHECK(parse_ok("::1:6001:6001") == "::1|6001|6001|tcp");
  CHECK(parse_ok("3000") == "|random|3000|tcp");
  CHECK(parse_ok("3000-3005") == "|random|3000-3005|tcp");
  CHECK(parse_ok("9000-9010:9000-9010") == "|9000-9010|9000-9010|tcp");
  CHECK(parse_ok("8000-8010:80") == "|8000-8010|80|tcp");  // Docker takes a free port of the range
  CHECK(parse_ok("6060:6060/udp") == "|6060|6060|udp");
  CHECK(parse_ok("53:53/tcp") == "|53|53|tcp");
  CHECK(parse_ok("1194/udp") == "|random|1194|udp");
  CHECK(parse_ok("127.0.0.1::5000") == "127.0.0.1|random|5000|tcp");
  CHECK(parse_ok("[::1]::5000") == "::1|random|5000|tcp");
  CHECK(parse_ok("192.168.1.20:80:80/udp") == "192.168.1.20|80|80|udp");
}

TEST_CASE("short ports syntax: what it refuses, and why", "[compose][reader]") {
  CHECK_THAT(parse_error("0:80"), Catch::Contains("host port '0' is not a port"));
  CHECK_THAT(parse_error("70000:80"), Catch::Contains("'70000' is not a port"));
  CHECK_THAT(parse_error("80:"), Catch::Contains("container port '' is not a port"));
  CHECK_THAT(parse_error("http:80"), Catch::Contains("host port 'http'"));
  CHECK_THAT(parse_error("90-80:90-80"), Catch::Contains("reversed"));
  CHECK_THAT(parse_error("9000-9001:80-82"), Catch::Contains("ranges of different sizes"));
  CHECK_THAT(parse_error("80:80/sctp"), Catch::Contains("tcp and udp only"));
  CHECK_THAT(parse_error("80:80/icmp"), Catch::Contains("unknown protocol 'icmp'"));
  CHECK_THAT(parse_error("[::1]:80"), Catch::Contains("without a host port"));
  CHECK_THAT(parse_error(":80:80"), Catch::Contains("empty host address"));
}

TEST_CASE("host addresses: every address, loopback, one address", "[compose][reader]") {
  std::string error;
  CHECK(binding_of("", error) == Binding::all);
  CHECK(binding_of("0.0.0.0", error) == Binding::all);
  CHECK(binding_of("::", error) == Binding::all);
  CHECK(binding_of("127.0.0.1", error) == Binding::loopback);
  CHECK(binding_of("127.1.2.3", error) == Binding::loopback);
  CHECK(binding_of("::1", error) == Binding::loopback);
  CHECK(binding_of("192.168.1.20", error) == Binding::address);
  CHECK(binding_of("fd42::20", error) == Binding::address);
  CHECK(error.empty());
  binding_of("192.168.1.0/24", error);
  CHECK_THAT(error, Catch::Contains("not an IPv4 or IPv6 address"));
  binding_of("localhost", error);
  CHECK_THAT(error, Catch::Contains("'localhost'"));
}

TEST_CASE("a compose file: short and long ports, expose, host network, profiles, places", "[compose][reader]") {
  auto r = read_text(R"(name: demo
services:
  web:
    image: nginx
    profiles: [debug, admin]
    ports:
      - "8080:80"
      - 3000
      - target: 443
        published: "8443"
        host_ip: 127.0.0.1
      - target: 5000
        published: 5000-5001
        protocol: udp
      - target: 6000
      - { target: 7000, host_ip: "[::1]", published: 7000 }
    expose:
      - "9000"
      - 9100-9101/udp
  agent:
    network_mode: host
    ports: ["1:1"]
  quiet:
)");
  REQUIRE(r->file.readable);
  CHECK(r->diags.all().empty());
  CHECK(r->file.services == 3);
  const auto& p = r->file.published;
  REQUIRE(p.size() == 6);
  auto where = [&](const Span& s) {
    auto lc = r->sources.file(s.file).position(s.begin);
    return std::to_string(lc.line) + ":" + std::to_string(lc.column) + " " + std::string(r->sources.text(s));
  };
  CHECK(where(p[0].span) == "7:9 \"8080:80\"");
  CHECK(p[0].service.profiles == std::vector<std::string>{"debug", "admin"});
  CHECK(where(p[1].span) == "8:9 3000");
  CHECK_FALSE(p[1].host);
  CHECK(where(p[2].span) == "10:9 published: \"8443\"");  // the long syntax points at `published`
  CHECK(p[2].binding == Binding::loopback);
  CHECK(p[2].text == "127.0.0.1:8443:443");
  CHECK(p[3].proto == ir::Proto::udp);
  CHECK(p[3].host == ir::PortRange{5000, 5001});
  CHECK(p[3].container == ir::PortRange{5000, 5000});
  CHECK(where(p[4].span) == "15:9 target: 6000");  // no `published`: at `target`, a random port
  CHECK_FALSE(p[4].host);
  CHECK(p[5].host_ip == "::1");
  CHECK(p[5].binding == Binding::loopback);
  CHECK(p[5].text == "[::1]:7000:7000");
  REQUIRE(r->file.exposed.size() == 2);
  CHECK(where(r->file.exposed[1].span) == "19:9 9100-9101/udp");
  CHECK(r->file.exposed[1].proto == ir::Proto::udp);
  REQUIRE(r->file.host_network.size() == 1);
  CHECK(r->file.host_network[0].lists_ports);
  CHECK(where(r->file.host_network[0].span) == "21:5 network_mode: host");
}

TEST_CASE("a merge key (<<: *defaults) brings its ports", "[compose][reader]") {
  auto r = read_text(R"(x-defaults: &defaults
  ports:
    - "8080:8080"
services:
  a:
    <<: *defaults
    image: x
)");
  REQUIRE(r->file.published.size() == 1);
  CHECK(r->file.published[0].service.name == "a");
}

TEST_CASE("entries it cannot read are E906 at their place; the rest is still read", "[compose][reader]") {
  auto r = read_text(R"(services:
  a:
    ports:
      - "${WEB_PORT}:80"
      - "99999:80"
      - ["80"]
      - published: 80
      - target: 80
        protocol: sctp
      - "8080:8080"
    expose:
      - "1:2"
  b:
    ports: "80:80"
  c: [1]
)");
  CHECK(codes(r->sources, r->diags) ==
        std::vector<std::string>{"E906@4:9", "E906@5:9", "E906@6:9", "E906@7:9", "E906@9:9", "E906@12:9",
                                 "E906@14:12", "E906@15:6"});
  REQUIRE(r->file.published.size() == 1);
  CHECK(r->file.published[0].text == "8080:8080");
  CHECK_THAT(r->diags.sorted()[0].message, Catch::Contains("uses a variable"));
}

TEST_CASE("bad YAML is E900 at yaml-cpp's mark; not a compose file is E906", "[compose][reader]") {
  auto r = read_text("services:\n  a:\n    ports: [\"80:80\"\n  b: {}\n");
  CHECK_FALSE(r->file.readable);
  REQUIRE(r->diags.all().size() == 1);
  CHECK(r->diags.all()[0].code == code::kUnreadable);
  CHECK_THAT(r->diags.all()[0].message, Catch::StartsWith("not valid YAML: "));
  CHECK(codes(r->sources, r->diags) == std::vector<std::string>{"E900@4:3"});

  auto tabs = read_text("services:\n\ta: {}\n");
  CHECK_FALSE(tabs->file.readable);

  auto list = read_text("- a\n- b\n");
  CHECK(codes(list->sources, list->diags) == std::vector<std::string>{"E906@1:1"});
  auto typo = read_text("service:\n  a: {}\n");
  CHECK(codes(typo->sources, typo->diags) == std::vector<std::string>{"E906@1:1"});
}

TEST_CASE("a file with no services: nothing to audit, no finding", "[compose][reader]") {
  for (const char* text : {"", "# nothing yet\n", "services:\n", "services: {}\n", "name: x\nservices:\n  a:\n"}) {
    auto r = read_text(text);
    INFO(text);
    CHECK(r->file.readable);
    CHECK(r->diags.all().empty());
    CHECK(r->file.published.empty());
  }
}

TEST_CASE("hostile content is refused quickly: deep nesting, a huge file, many aliases", "[compose][reader]") {
  auto started = std::chrono::steady_clock::now();
  auto deep_flow = read_text("services: " + std::string(100000, '[') + std::string(100000, ']') + "\n");
  CHECK(codes(deep_flow->sources, deep_flow->diags) == std::vector<std::string>{"E900@1:1"});
  CHECK_THAT(deep_flow->diags.all()[0].message, Catch::Contains("nests deeper than"));

  std::string block = "services:\n";
  for (int i = 0; i < 500; ++i) block += std::string(static_cast<std::size_t>(2 * i + 2), ' ') + "k" + std::to_string(i) + ":\n";
  auto deep_block = read_text(block);
  CHECK(codes(deep_block->sources, deep_block->diags) == std::vector<std::string>{"E900@1:1"});

  auto huge = read_text("services: {}\n# " + std::string(kMaxFileBytes, 'x') + "\n");
  CHECK(codes(huge->sources, huge->diags) == std::vector<std::string>{"E900@1:1"});
  CHECK_THAT(huge->diags.all()[0].message, Catch::Contains("at most"));

  // Aliases are shared, not copied: a "billion laughs" file reads in no time.
  std::string laughs = "a0: &a0 [\"80:80\", \"81:81\"]\n";
  for (int i = 1; i < 30; ++i)
    laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) + ", *a" +
              std::to_string(i - 1) + "]\n";
  laughs += "services:\n  s:\n    ports: *a0\n";
  auto bomb = read_text(laughs);
  CHECK(bomb->file.readable);
  CHECK(bomb->file.published.size() == 2);

  // Many entries, each read once.
  std::string many = "services:\n  s:\n    ports:\n";
  for (int i = 1; i <= 20000; ++i) many += "      - \"" + std::to_string(i) + ":" + std::to_string(i) + "\"\n";
  auto wide = read_text(many);
  CHECK(wide->file.published.size() == 20000);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
}
