#include "npm_values.h"

#include <catch2/catch.hpp>

using namespace netpol::npm;

TEST_CASE("Published names: lower-case LDH labels, optional leading wildcard", "[npm][values]") {
  for (const char* ok : {"jellyfin.home.arpa", "a1.example.test", "*.home.arpa", "x-y.z9", "0.example.test"}) {
    INFO(ok);
    CHECK(valid_domain(ok));
  }
  for (const char* bad : {"", "home", "Jellyfin.home.arpa", "a..b", ".a.b", "a.b.", "-a.b", "a-.b", "a_b.c",
                          "*.home", "a.*.b", "**.a.b", "x.home.arpa; return 200", "x.home.arpa\n", "x y.z",
                          "x.home.arpa\"", "\xc3\xa9.home.arpa", "x.home.arpa/", "x.home.arpa:443"}) {
    INFO(bad);
    CHECK_FALSE(valid_domain(bad));
  }
  CHECK(valid_domain(std::string(63, 'a') + ".b"));
  CHECK_FALSE(valid_domain(std::string(64, 'a') + ".b"));
  std::string long_name;
  for (int i = 0; i < 51; ++i) long_name += "abcd.";
  CHECK_FALSE(valid_domain(long_name + "ef"));  // 257 > 253
  CHECK(valid_domain(long_name.substr(0, 250) + "ef"));  // 252
}

TEST_CASE("forward_host: IPv4 literals or host names, nothing that could end a directive", "[npm][values]") {
  for (const char* ok : {"198.18.1.20", "0.0.0.0", "255.255.255.255", "backend", "media.lan", "Media-1.lan"}) {
    INFO(ok);
    CHECK(valid_forward_host(ok));
  }
  for (const char* bad : {"", "198.18.2.20\"; return 200 \"x", "198.18.1.20;", "999.1.1.1", "1.2.3", "01.2.3.4",
                          "2001:db8::1", "[2001:db8::1]", "a b", "a\nb", "host$x", "a{b}"}) {
    INFO(bad);
    CHECK_FALSE(valid_forward_host(bad));
  }
  CHECK(valid_ipv4("198.18.1.20"));
  CHECK_FALSE(valid_ipv4("198.18.1.256"));
  CHECK_FALSE(valid_ipv4("198.18.1"));
}

TEST_CASE("Location paths: the formats.md 3.5 whitelist", "[npm][values]") {
  CHECK(valid_location_path("/"));
  CHECK(valid_location_path("/api/v1_x~%20-y."));
  CHECK_FALSE(valid_location_path(""));
  CHECK_FALSE(valid_location_path("api"));
  CHECK_FALSE(valid_location_path("/x { } location /y"));
  CHECK_FALSE(valid_location_path("/x;"));
}

TEST_CASE("Access-list names: netpol- and policy names joined by +", "[npm][values]") {
  CHECK(valid_access_list_name("netpol-lan"));
  CHECK(valid_access_list_name("netpol-lan+vpn"));
  CHECK(valid_access_list_name("netpol-vm-intranet+lan_2"));
  for (const char* bad : {"lan", "netpol-", "netpol-l", "netpol-lan+", "netpol-+lan", "netpol-Lan", "netpol-lan vpn",
                          "netpol-lan;", "netpol-1lan", "NETPOL-lan"}) {
    INFO(bad);
    CHECK_FALSE(valid_access_list_name(bad));
  }
  std::string name = "netpol-aaaaaaaaaaaaaaaaaa";
  while (name.size() + 19 <= kMaxAccessListName) name += "+aaaaaaaaaaaaaaaaaa";
  CHECK(valid_access_list_name(name));
  CHECK_FALSE(valid_access_list_name(name + "+bb"));
}

TEST_CASE("Client addresses: canonical networks that NPM's own pattern accepts", "[npm][values]") {
  for (const char* ok : {"198.18.1.0/24", "198.18.1.20/32", "0.0.0.0/1", "2001:db8:0:1::/64", "::/1", "8000::/1",
                         "2001:db8:0:1:ff::20/128"}) {
    INFO(ok);
    CHECK(valid_client_address(ok));
  }
  for (const char* bad : {"198.18.1.5/24", "198.18.1.0", "all", "198.18.1.0/24 ", "2001:DB8::/32", "2001:db8::0/32",
                          "::ffff:198.18.0.0/120"}) {
    INFO(bad);
    CHECK_FALSE(valid_client_address(bad));
  }
  // NPM's schema alone: its faults, as formats.md 3.3 found them.
  CHECK(npm_schema_accepts_address("999.1.1.1/24"));
  CHECK(npm_schema_accepts_address("2001:db8::1%eth0"));
  CHECK_FALSE(npm_schema_accepts_address("::ffff:198.18.0.1"));
  CHECK(npm_schema_accepts_address("all"));
}

TEST_CASE("nginx file names", "[npm][values]") {
  CHECK(nginx_file_name("jellyfin.home.arpa") == "jellyfin.home.arpa.conf");
  CHECK(nginx_file_name("*.home.arpa") == "_wildcard.home.arpa.conf");
}
