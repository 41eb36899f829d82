// The listeners with real sockets. The test process runs in a fresh network namespace (see
// probe.cmake), so ports like 53 are free and nothing outside is reached.
#include "listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "token.h"

using namespace netpol::live;
using namespace std::chrono_literals;

namespace {

struct Client {
  int fd = -1;
  ~Client() {
    if (fd >= 0) close(fd);
  }
};

sockaddr_storage endpoint(const std::string& address, std::uint16_t port, socklen_t& length) {
  sockaddr_storage storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof *v4;
  } else {
    REQUIRE(inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof *v6;
  }
  return storage;
}

// A blocking client socket connected to address:port, reads bounded by a 3 s timeout.
void connect_client(Client& client, L4 proto, const std::string& address, std::uint16_t port) {
  socklen_t length = 0;
  const auto to = endpoint(address, port, length);
  client.fd = socket(to.ss_family, proto == L4::tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
  REQUIRE(client.fd >= 0);
  timeval limit{3, 0};
  setsockopt(client.fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  REQUIRE(connect(client.fd, reinterpret_cast<const sockaddr*>(&to), length) == 0);
}

// Sends `request` and returns everything received until the server closes (TCP) or one datagram (UDP).
std::string exchange(L4 proto, const std::string& address, std::uint16_t port, const std::vector<std::uint8_t>& request) {
  Client client;
  connect_client(client, proto, address, port);
  REQUIRE(send(client.fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  std::string received;
  char buffer[2048];
  for (int i = 0; i < 16; ++i) {
    const ssize_t n = recv(client.fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    received.append(buffer, static_cast<std::size_t>(n));
    if (proto == L4::udp) break;
  }
  return received;
}

std::vector<std::uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }

}  // namespace

TEST_CASE("listener: a TCP probe's token is recorded and answered") {
  TokenLog log;
  auto listener = Listener::start({{"127.0.0.1", L4::tcp, 7201}, {"::", L4::tcp, 7201}}, log);
  CHECK(listener->bound().size() == 2);
  CHECK(listener->taken().empty());
  for (const char* address : {"127.0.0.1", "::1"}) {
    const std::string token = make_token();
    CHECK(exchange(L4::tcp, address, 7201, request_for(L4::tcp, 7201, token)) == "NETVERIFY OK\n");
    CHECK(log.seen(token));
  }
  CHECK(log.size() == 2);
  CHECK_FALSE(log.seen(make_token()));
}

TEST_CASE("listener: an HTTP request gets an HTTP 200 naming the token") {
  TokenLog log;
  auto listener = Listener::start({{"0.0.0.0", L4::tcp, 8096}}, log);
  const std::string token = make_token();
  const std::string reply =
      exchange(L4::tcp, "127.0.0.1", 8096, bytes("GET /netverify/" + token + " HTTP/1.1\r\nHost: vm-media\r\n\r\n"));
  CHECK(reply.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
  const std::string body = "netverify " + token + "\n";
  CHECK(reply.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
  CHECK(reply.size() >= body.size());
  CHECK(reply.substr(reply.size() - body.size()) == body);
  CHECK(log.seen(token));
}

TEST_CASE("listener: a UDP probe's token is recorded and answered, from the address probed") {
  TokenLog log;
  auto listener = Listener::start({{"0.0.0.0", L4::udp, 7202}, {"::", L4::udp, 7202}}, log);
  // 127.0.0.3 is local but not the kernel's first choice of source: a reply from 127.0.0.1 would
  // not reach the connected client socket.
  for (const char* address : {"127.0.0.1", "127.0.0.3", "::1"}) {
    const std::string token = make_token();
    CHECK(exchange(L4::udp, address, 7202, request_for(L4::udp, 7202, token)) == "NETVERIFY OK\n");
    CHECK(log.seen(token));
  }
}

TEST_CASE("listener: a DNS query gets NXDOMAIN with its ID and question") {
  TokenLog log;
  auto listener = Listener::start({{"127.0.0.1", L4::udp, 53}}, log);
  const std::string token = make_token();
  const auto query = request_for(L4::udp, 53, token);
  const std::string reply = exchange(L4::udp, "127.0.0.1", 53, query);
  REQUIRE(reply.size() == query.size());
  const auto byte = [&reply](std::size_t i) { return static_cast<std::uint8_t>(reply[i]); };
  CHECK(byte(0) == query[0]);  // the same ID
  CHECK(byte(1) == query[1]);
  CHECK((byte(2) & 0x80) != 0);    // QR: a response
  CHECK((byte(2) & 0x01) != 0);    // RD kept
  CHECK((byte(3) & 0x0f) == 3);    // NXDOMAIN
  CHECK(byte(5) == 1);             // one question
  CHECK(byte(7) == 0);             // no answers
  CHECK(reply.substr(12) == std::string(query.begin() + 12, query.end()));  // the question, copied
  CHECK(log.seen(token));
}

TEST_CASE("listener: an OpenVPN hard reset gets a server hard reset back") {
  TokenLog log;
  auto listener = Listener::start({{"127.0.0.1", L4::udp, 1194}}, log);
  const std::string token = make_token();
  const auto reset = request_for(L4::udp, 1194, token);
  const std::string reply = exchange(L4::udp, "127.0.0.1", 1194, reset);
  REQUIRE(reply.size() >= 14);
  CHECK(static_cast<std::uint8_t>(reply[0]) == (8 << 3));  // P_CONTROL_HARD_RESET_SERVER_V2, key 0
  CHECK(log.seen(token));
}

TEST_CASE("listener: a port already in use is taken, not bound") {
  Client tcp_owner, udp_owner;
  socklen_t length = 0;
  auto address = endpoint("127.0.0.1", 7203, length);
  tcp_owner.fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(bind(tcp_owner.fd, reinterpret_cast<sockaddr*>(&address), length) == 0);
  REQUIRE(listen(tcp_owner.fd, 1) == 0);
  udp_owner.fd = socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(bind(udp_owner.fd, reinterpret_cast<sockaddr*>(&address), length) == 0);

  TokenLog log;
  auto listener = Listener::start(
      {{"0.0.0.0", L4::tcp, 7203}, {"127.0.0.1", L4::udp, 7203}, {"127.0.0.1", L4::tcp, 7204}}, log);
  REQUIRE(listener->taken().size() == 2);
  CHECK(listener->taken()[0].proto == L4::tcp);
  CHECK(listener->taken()[0].address == "0.0.0.0");
  CHECK(listener->taken()[1].proto == L4::udp);
  REQUIRE(listener->bound().size() == 1);
  CHECK(listener->bound()[0].port == 7204);
}

TEST_CASE("listener: an address it cannot bind is an error naming it") {
  TokenLog log;
  CHECK_THROWS_WITH(Listener::start({{"198.18.0.77", L4::tcp, 7205}}, log),
                    Catch::Contains("198.18.0.77 tcp/7205"));
  CHECK_THROWS_WITH(Listener::start({{"vm-web", L4::udp, 7205}}, log), Catch::Contains("vm-web"));
}

TEST_CASE("listener: stop() is prompt and idempotent") {
  TokenLog log;
  auto listener = Listener::start({{"127.0.0.1", L4::tcp, 7206}, {"127.0.0.1", L4::udp, 7206}}, log);
  std::this_thread::sleep_for(50ms);  // let it settle in epoll_wait
  const auto begin = std::chrono::steady_clock::now();
  listener->stop();
  CHECK(std::chrono::steady_clock::now() - begin < 200ms);
  listener->stop();
  Client client;  // stopped: the port no longer answers
  connect_client(client, L4::tcp, "127.0.0.1", 7206);  // (the backlog still completes a handshake)
  const auto request = request_for(L4::tcp, 7206, make_token());
  (void)send(client.fd, request.data(), request.size(), MSG_NOSIGNAL);
  timeval limit{0, 300000};
  setsockopt(client.fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  char buffer[64];
  CHECK(recv(client.fd, buffer, sizeof buffer, 0) < 0);
  CHECK(log.size() == 0);
}

TEST_CASE("listener: a connection that sends nothing is closed after about 2 s") {
  TokenLog log;
  auto listener = Listener::start({{"127.0.0.1", L4::tcp, 7207}}, log);
  Client idle;
  connect_client(idle, L4::tcp, "127.0.0.1", 7207);
  const auto begin = std::chrono::steady_clock::now();
  char buffer[64];
  CHECK(recv(idle.fd, buffer, sizeof buffer, 0) == 0);  // closed by the listener, within the 3 s read limit
  const auto waited = std::chrono::steady_clock::now() - begin;
  CHECK(waited >= 1500ms);
  CHECK(waited < 2800ms);
}
