#include "verdict.h"

#include <catch2/catch.hpp>
#include <cerrno>

using namespace netpol::live;

namespace {
Evidence with(Reply reply, int error = 0) {
  Evidence e;
  e.result.reply = reply;
  e.result.error = error;
  e.destination = "vm-intranet";
  return e;
}
}  // namespace

TEST_CASE("a token seen at the destination is delivered, whatever came back", "[verdict]") {
  auto e = with(Reply::reset, ECONNREFUSED);
  e.token_seen = true;
  CHECK(decide(e).first == Verdict::delivered);
}

TEST_CASE("in the lab a reset or an ICMP error from a listening port is a firewall: blocked", "[verdict]") {
  for (auto reply : {Reply::reset, Reply::unreachable, Reply::timeout}) {
    auto e = with(reply, reply == Reply::reset ? ECONNREFUSED : EHOSTUNREACH);
    e.listening = true;
    const auto [v, why] = decide(e);
    CHECK(v == Verdict::blocked);
    CHECK(why.find("listens") != std::string::npos);
  }
}

TEST_CASE("a handshake or an answer is delivered", "[verdict]") {
  CHECK(decide(with(Reply::connected)).first == Verdict::delivered);
  CHECK(decide(with(Reply::udp_reply)).first == Verdict::delivered);
}

TEST_CASE("on a node the tap capture decides", "[verdict]") {
  auto passed = with(Reply::reset, ECONNREFUSED);
  passed.seen_on_tap = true;
  CHECK(decide(passed).first == Verdict::nothing_listening);
  auto stopped = with(Reply::reset, ECONNREFUSED);
  stopped.seen_on_tap = false;  // a REJECT on the node: the reset never came from the VM
  CHECK(decide(stopped).first == Verdict::blocked);
  auto udp = with(Reply::timeout);
  udp.proto = L4::udp;
  udp.seen_on_tap = true;
  CHECK(decide(udp).first == Verdict::inconclusive);
}

TEST_CASE("no proof either way stays inconclusive; a down destination is never blocked", "[verdict]") {
  CHECK(decide(with(Reply::reset, ECONNREFUSED)).first == Verdict::inconclusive);
  CHECK(decide(with(Reply::error, EADDRNOTAVAIL)).first == Verdict::inconclusive);
  auto down = with(Reply::timeout);
  down.destination_up = false;
  down.listening = true;
  const auto [v, why] = decide(down);
  CHECK(v == Verdict::inconclusive);
  CHECK(why.find("down") != std::string::npos);
}

TEST_CASE("a send the source's own firewall refuses is blocked, at the source", "[verdict]") {
  const auto [v, why] = decide(with(Reply::error, EPERM));
  CHECK(v == Verdict::blocked);
  CHECK(why.find("source's own firewall") != std::string::npos);
}

TEST_CASE("on a node a reset the VM sent, lost on its way back, still means nothing listens", "[verdict]") {
  auto e = with(Reply::timeout);
  e.seen_on_tap = true;
  e.reset_on_tap = true;
  CHECK(decide(e).first == Verdict::nothing_listening);
  e.reset_on_tap = false;
  CHECK(decide(e).first == Verdict::blocked);  // arrived, and the VM's own firewall dropped it
}
