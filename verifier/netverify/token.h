#pragma once
// Probe tokens, and the request each probe sends. A token is "nv-" followed by 16 lowercase hex
// digits; the destination side finds it in what it receives and reports it (listener.h).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe.h"

namespace netpol::live {

// A fresh token, unique within the process run (random 64 bits from the OS, then a counter).
std::string make_token();

// The bytes a probe sends once connected (TCP) or as its datagram (UDP). Known services get a real
// request so a real server answers: udp/53 a DNS query for "<token>.netverify.invalid", udp/1194 an
// OpenVPN P_CONTROL_HARD_RESET_CLIENT_V2 whose session id is the token's 8 bytes. Everything else:
// "NETVERIFY <token>\r\n".
std::vector<std::uint8_t> request_for(L4 proto, std::uint16_t port, const std::string& token);

// The token inside received bytes, whatever the form above (also inside an HTTP request line).
std::optional<std::string> find_token(std::string_view received);
std::optional<std::string> find_token(L4 proto, std::uint16_t port, const std::vector<std::uint8_t>& received);

}  // namespace netpol::live
