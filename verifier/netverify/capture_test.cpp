// The capture on lo (AF_PACKET works there too), in the fresh network namespace the test runs in.
#include "capture.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "listener.h"
#include "token.h"

using namespace netpol::live;
using namespace std::chrono_literals;

namespace {

bool seen_within(const Capture& capture, const SeenPacket& packet, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!capture.seen(packet)) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

ProbeResult probe_once(L4 proto, const std::string& destination, std::uint16_t port) {
  Probe p;
  p.proto = proto;
  p.destination = destination;
  p.port = port;
  p.token = make_token();
  ProberOptions options;
  options.timeout = 300ms;
  const auto results = run_probes({p}, options);
  REQUIRE(results.size() == 1);
  return results[0];
}

}  // namespace

TEST_CASE("capture: a probe's SYN is seen on lo with its source port") {
  auto capture = Capture::start({"lo"});
  for (const char* address : {"127.0.0.1", "::1"}) {
    INFO(address);
    const auto result = probe_once(L4::tcp, address, 7301);  // nothing listens: the SYN still passed
    REQUIRE(result.reply == Reply::reset);
    REQUIRE(result.source_port != 0);
    CHECK(seen_within(*capture, {SeenPacket::Kind::probe, L4::tcp, address, result.source_port, address, 7301}, 1000ms));
    // Not the same flow on another source port, nor the RST coming back.
    const auto other_port = static_cast<std::uint16_t>(result.source_port + 1);
    CHECK_FALSE(capture->seen({SeenPacket::Kind::probe, L4::tcp, address, other_port, address, 7301}));
    CHECK_FALSE(capture->seen({SeenPacket::Kind::probe, L4::tcp, address, 7301, address, result.source_port}));
    // The reset coming back is seen as the answer of the closed port, with the tuple reversed.
    CHECK(seen_within(*capture, {SeenPacket::Kind::reset, L4::tcp, address, 7301, address, result.source_port}, 1000ms));
  }
}

TEST_CASE("capture: UDP datagrams are seen, a SYN-ACK is not taken for a SYN") {
  TokenLog log;
  auto listener = Listener::start({{"127.0.0.1", L4::tcp, 7302}, {"::1", L4::udp, 7303}}, log);
  auto capture = Capture::start({"lo"});
  const auto udp = probe_once(L4::udp, "::1", 7303);
  REQUIRE(udp.reply == Reply::udp_reply);
  CHECK(seen_within(*capture, {SeenPacket::Kind::probe, L4::udp, "::1", udp.source_port, "::1", 7303}, 1000ms));
  CHECK(seen_within(*capture, {SeenPacket::Kind::probe, L4::udp, "::1", 7303, "::1", udp.source_port}, 1000ms));  // the reply, a datagram too

  const auto tcp = probe_once(L4::tcp, "127.0.0.1", 7302);
  REQUIRE(tcp.reply == Reply::connected);
  CHECK(seen_within(*capture, {SeenPacket::Kind::probe, L4::tcp, "127.0.0.1", tcp.source_port, "127.0.0.1", 7302}, 1000ms));
  CHECK_FALSE(capture->seen({SeenPacket::Kind::probe, L4::tcp, "127.0.0.1", 7302, "127.0.0.1", tcp.source_port}));
  capture->stop();
  capture->stop();
}

TEST_CASE("capture: an interface that does not exist is an error naming it") {
  CHECK_THROWS_WITH(Capture::start({"lo", "nosuch0"}), Catch::StartsWith("capture on nosuch0: "));
}
