#include "token.h"

#include <catch2/catch.hpp>
#include <set>

using namespace netpol::live;

namespace {

std::uint16_t u16(const std::vector<std::uint8_t>& b, std::size_t at) {
  return static_cast<std::uint16_t>((b.at(at) << 8) | b.at(at + 1));
}

std::string as_text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }

}  // namespace

TEST_CASE("tokens are nv- and 16 lowercase hex digits, unique within the run") {
  std::set<std::string> tokens;
  for (int i = 0; i < 10000; ++i) {
    const std::string token = make_token();
    REQUIRE(token.size() == 19);
    REQUIRE(token.substr(0, 3) == "nv-");
    REQUIRE(token.find_first_not_of("0123456789abcdef", 3) == std::string::npos);
    tokens.insert(token);
  }
  CHECK(tokens.size() == 10000);
}

TEST_CASE("TCP probes, even to web ports, and other UDP ports send the NETVERIFY line") {
  const std::string token = make_token();
  for (std::uint16_t port : std::initializer_list<std::uint16_t>{22, 80, 443, 8096, 2283, 3000, 3001, 9090, 53, 1194})
    CHECK(as_text(request_for(L4::tcp, port, token)) == "NETVERIFY " + token + "\r\n");
  CHECK(as_text(request_for(L4::udp, 51820, token)) == "NETVERIFY " + token + "\r\n");
  CHECK(find_token(L4::tcp, 22, request_for(L4::tcp, 22, token)) == token);
  CHECK(find_token(L4::udp, 51820, request_for(L4::udp, 51820, token)) == token);
}

TEST_CASE("udp/53 sends a well-formed DNS query for <token>.netverify.invalid") {
  const std::string token = "nv-0123456789abcdef";
  const auto query = request_for(L4::udp, 53, token);
  REQUIRE(query.size() >= 12);
  CHECK(u16(query, 0) == 0xcdef);  // the ID: the token's low 16 bits
  CHECK(u16(query, 2) == 0x0100);  // a standard query (QR 0, opcode 0), recursion desired
  CHECK(u16(query, 4) == 1);
  CHECK(u16(query, 6) == 0);
  CHECK(u16(query, 8) == 0);
  CHECK(u16(query, 10) == 0);
  std::vector<std::string> labels;
  std::size_t at = 12;
  while (query.at(at) != 0) {
    const std::size_t length = query.at(at);
    REQUIRE(length <= 63);
    labels.emplace_back(query.begin() + static_cast<long>(at + 1), query.begin() + static_cast<long>(at + 1 + length));
    at += 1 + length;
  }
  CHECK(labels == std::vector<std::string>{token, "netverify", "invalid"});
  CHECK(u16(query, at + 1) == 1);  // QTYPE A
  CHECK(u16(query, at + 3) == 1);  // QCLASS IN
  CHECK(query.size() == at + 5);
  CHECK(find_token(L4::udp, 53, query) == token);
}

TEST_CASE("udp/1194 sends an OpenVPN P_CONTROL_HARD_RESET_CLIENT_V2 carrying the token as session id") {
  const std::string token = "nv-0123456789abcdef";
  const auto reset = request_for(L4::udp, 1194, token);
  const std::vector<std::uint8_t> expected{0x38,                                            // opcode 7, key 0
                                           0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,  // session id
                                           0x00,                                            // no acks
                                           0x00, 0x00, 0x00, 0x00};                         // packet id 0
  CHECK(reset == expected);
  CHECK(find_token(L4::udp, 1194, reset) == token);
  // Forwarded to another port, still recognised; a fresh token round-trips too.
  const std::string fresh = make_token();
  CHECK(find_token(L4::udp, 11940, request_for(L4::udp, 1194, fresh)) == fresh);
}

TEST_CASE("a DNS query whose ID looks like an OpenVPN opcode is still read as DNS") {
  const std::string token = "nv-00000000000038ab";
  const auto query = request_for(L4::udp, 53, token);
  REQUIRE(query.at(0) == 0x38);
  CHECK(find_token(L4::udp, 53, query) == token);
}

TEST_CASE("find_token finds a token anywhere in ASCII, and nothing else") {
  CHECK(find_token("GET /netverify/nv-00112233aabbccdd HTTP/1.1\r\nHost: x\r\n\r\n") == "nv-00112233aabbccdd");
  CHECK(find_token("nv-00112233AABBCCDD") == "nv-00112233aabbccdd");  // a resolver's 0x20 case mixing
  CHECK(find_token("nv-nv-00112233aabbccdd.") == "nv-00112233aabbccdd");
  CHECK_FALSE(find_token("NETVERIFY nv-00112233aabbccd\r\n"));  // 15 digits
  CHECK_FALSE(find_token("NETVERIFY nv-00112233aabbccddee\r\n"));  // 18 digits
  CHECK_FALSE(find_token("nv-00112233aabbccdg"));
  CHECK_FALSE(find_token(""));
  CHECK_FALSE(find_token(L4::tcp, 1194, request_for(L4::udp, 1194, "nv-0123456789abcdef")));  // binary over TCP
  CHECK_FALSE(find_token(L4::udp, 9, std::vector<std::uint8_t>{0x38, 1, 2}));  // too short for a reset
}
