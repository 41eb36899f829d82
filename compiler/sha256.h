#pragma once
#include <string>
#include <string_view>

namespace netpol {
// Lower-case hex SHA-256 of the bytes (OpenSSL's libcrypto).
std::string sha256_hex(std::string_view bytes);
}  // namespace netpol
