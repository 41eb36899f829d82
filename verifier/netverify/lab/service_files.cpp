#include "service_files.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "netns.h"

namespace netpol::live::lab {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_text(const std::string& path, const std::string& text, unsigned mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw ToolError("cannot write " + path);
  }
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0)
    throw ToolError("chmod " + path + ": " + std::strerror(errno));
}

void make_dir(const std::string& path, unsigned mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw ToolError("mkdir " + path + ": " + ec.message());
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0)
    throw ToolError("chmod " + path + ": " + std::strerror(errno));
}

std::string log_tail(const std::string& path, int lines) {
  std::string text = read_text(path);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  std::size_t pos = text.size();
  for (int i = 0; i < lines && pos != std::string::npos && pos > 0; ++i) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

void fail_with_log(const std::string& what, const std::string& log) {
  throw ToolError(what + " (log " + log + "):\n" + log_tail(log));
}

bool wait_until(std::chrono::milliseconds limit, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::set<std::uint16_t> listening_tcp_ports(pid_t pid) {
  std::set<std::uint16_t> ports;
  for (const char* file : {"tcp", "tcp6"}) {
    std::istringstream table(read_text("/proc/" + std::to_string(pid) + "/net/" + file));
    std::string line;
    std::getline(table, line);  // header
    while (std::getline(table, line)) {
      // "  0: 0100007F:01BB 00000000:0000 0A ..." : local address:port (hex), remote, state
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      std::size_t colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;  // 0A = TCP_LISTEN
      ports.insert(static_cast<std::uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16)));
    }
  }
  return ports;
}

bool plain_word(const std::string& value) {
  return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return c > 0x20 && c < 0x7f && c != '#' && c != ';' && c != '"' && c != '\'' && c != '\\';
  });
}

}  // namespace netpol::live::lab
