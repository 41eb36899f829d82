#include "parser.h"

#include <catch2/catch.hpp>
#include <tao/pegtl/contrib/analyze.hpp>

#include "grammar.h"
#include "resolve.h"
#include "test_support.h"

using namespace netpol;

TEST_CASE("The grammar has no rule that can loop without consuming input", "[grammar]") {
  CHECK(tao::pegtl::analyze<grammar::file>() == 0);
  CHECK(tao::pegtl::analyze<grammar::next_statement>() == 0);
}

TEST_CASE("Every statement kind parses", "[parser]") {
  SourceSet sources;
  Diagnostics diags;
  auto policy = parse_text(R"(
    address lan 198.18.1.0/24, 2001:db8::/64   # comment
    zone lan { bridge vmbr0 }
    zone sub in lan
    host web in lan { vmid 100 }
    node pve in lan
    service mix tcp/80,443, udp/5000-5010, icmp/echo-request, icmp
    allow lan, sub -> web : mix, tcp/8080, any
    deny lan -> web : udp/53
    never any -> web : tcp/5432
    vpn remote on web { listen udp/1194 from lan  pool sub  route lan, web }
    publish a.example.test on web -> web:mix { tls websocket from lan }
  )", "t.npol", sources, diags);
  INFO(diags.all().size());
  REQUIRE_FALSE(diags.has_errors());
  REQUIRE(policy.statements.size() == 11);
  auto& service = std::get<ast::ServiceDecl>(policy.statements[5]);
  REQUIRE(service.specs.size() == 4);
  CHECK(service.specs[0].ports.size() == 2);
  CHECK(service.specs[1].ports[0].first == 5000);
  CHECK(service.specs[1].ports[0].last == 5010);
  CHECK(service.specs[2].icmp_type->text == "echo-request");
  CHECK_FALSE(service.specs[3].icmp_type);
  auto& rule = std::get<ast::RuleDecl>(policy.statements[6]);
  CHECK(rule.sources.size() == 2);
  CHECK(rule.services.size() == 3);
  auto& vpn = std::get<ast::VpnDecl>(policy.statements[9]);
  CHECK(vpn.routes.size() == 2);
  CHECK(vpn.pool->text == "sub");
  auto& pub = std::get<ast::PublishDecl>(policy.statements[10]);
  CHECK(pub.tls);
  CHECK(pub.websocket);
  CHECK(pub.from.size() == 1);
  CHECK(one_line(sources.text(rule.span)) == "allow lan, sub -> web : mix, tcp/8080, any");
}

TEST_CASE("A multi-line statement keeps its span; comments inside are dropped from its text", "[parser]") {
  SourceSet sources;
  Diagnostics diags;
  auto policy = parse_text("allow lan,   # the household\n      wan -> web\n  : https\n", "t.npol", sources, diags);
  REQUIRE_FALSE(diags.has_errors());
  auto& rule = std::get<ast::RuleDecl>(policy.statements[0]);
  CHECK(one_line(sources.text(rule.span)) == "allow lan, wan -> web : https");
  CHECK(sources.file(0).position(rule.destinations[0].span.begin).line == 2);
}

TEST_CASE("Syntax errors are all reported: the parser resumes at the next statement", "[parser]") {
  auto c = testing::compile_text(
      "zone lan { bridge vmbr0 }\n"
      "allow lan web : https\n"       // missing ->
      "service web tcp/\n"            // missing port
      "zone ok\n"
      "allow lan -> web https\n");    // missing :
  CHECK(testing::codes(*c) == std::vector<std::string>{"E100@2:11", "E100@3:17", "E100@5:18"});
  auto text = testing::rendered(*c);
  CHECK_THAT(text, Catch::Contains("expected '->' between the source and the destination"));
  CHECK_THAT(text, Catch::Contains("    2 | allow lan web : https\n      |           ^~~"));
}

TEST_CASE("Includes are spliced in place, relative to the including file", "[parser]") {
  auto c = testing::compile({{"top/main.npol", "include \"sub/a.npol\"\nallow xx -> yy : tcp/2\n"},
                             {"top/sub/a.npol", "include \"b.npol\"\nallow xx -> yy : tcp/1\n"},
                             {"top/sub/b.npol", "zone xx\nzone yy\naddress xx 198.18.1.0/24\naddress yy 198.18.2.0/24\n"}},
                            "top/main.npol");
  INFO(testing::rendered(*c));
  REQUIRE(c->ok());
  REQUIRE(c->policy.rules.size() == 2);
  CHECK(c->policy.rules[0].text == "allow xx -> yy : tcp/1");
  CHECK(c->policy.rules[0].location.file == "sub/a.npol");
  CHECK(c->policy.rules[1].location.file == "main.npol");
  REQUIRE(c->policy.sources.size() == 3);
  CHECK(c->policy.sources[1].path == "sub/a.npol");
  CHECK(c->policy.sources[2].path == "sub/b.npol");
}

TEST_CASE("Include cycles and missing files point at the include line", "[parser]") {
  auto cycle = testing::compile({{"main.npol", "include \"a.npol\"\n"}, {"a.npol", "zone xx\ninclude \"main.npol\"\n"}});
  CHECK(testing::codes(*cycle) == std::vector<std::string>{"E500@2:1"});
  CHECK_THAT(testing::rendered(*cycle), Catch::Contains("main.npol -> a.npol -> main.npol"));
  auto missing = testing::compile({{"main.npol", "zone xx\n  include \"nope.npol\"\n"}});
  CHECK(testing::codes(*missing) == std::vector<std::string>{"E501@2:3"});
}

TEST_CASE("A host runs Docker, with compose files relative to the file that says so", "[parser]") {
  auto c = testing::compile({{"main.npol", "include \"sites/hosts.npol\"\n"},
                             {"sites/hosts.npol",
                              "zone lan { bridge vmbr0 }\naddress lan 198.18.1.0/24\n"
                              "address aa 198.18.1.10\naddress bb 198.18.1.11\naddress cc 198.18.1.12\n"
                              "host aa in lan { vmid 100  docker \"compose/a.yml\", \"../shared.yml\" }\n"
                              "host bb in lan { docker }\n"
                              "host cc in lan { vmid 102 }\n"}});
  REQUIRE(c->ok());
  const auto& hosts = c->policy.hosts;
  const auto& a = hosts[static_cast<std::size_t>(*c->policy.find_host("aa"))];
  CHECK(a.docker);
  REQUIRE(a.compose_files.size() == 2);
  CHECK(a.compose_files[0].path == "sites/compose/a.yml");
  CHECK(a.compose_files[1].path == "shared.yml");
  CHECK(a.compose_files[0].location.where() == "sites/hosts.npol:6");
  CHECK(a.compose_files[0].location.column == 36);
  const auto& b = hosts[static_cast<std::size_t>(*c->policy.find_host("bb"))];
  CHECK(b.docker);
  CHECK(b.compose_files.empty());
  CHECK_FALSE(hosts[static_cast<std::size_t>(*c->policy.find_host("cc"))].docker);
}

TEST_CASE("'docker' twice in one host block is E104", "[parser]") {
  auto c = testing::compile_text(
      "zone lan { bridge vmbr0 }\naddress lan 198.18.1.0/24\naddress aa 198.18.1.10\n"
      "host aa in lan { docker \"x.yml\"  docker }\n");
  CHECK(testing::codes(*c) == std::vector<std::string>{"E104@4:34"});
}
