#pragma once
// Small helpers shared by the lab's services: files, logs, bounded waits, listening sockets.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>

namespace netpol::live::lab {

std::string read_text(const std::string& path);  // "" when unreadable
void write_text(const std::string& path, const std::string& text, unsigned mode);  // throws ToolError
// mkdir -p, then chmod `mode` on the last component (created or not).
void make_dir(const std::string& path, unsigned mode);
std::string log_tail(const std::string& path, int lines = 15);
// A ToolError "what: <log tail>" for a failed tool.
[[noreturn]] void fail_with_log(const std::string& what, const std::string& log);

// Polls `done` every ~50 ms until it is true (true) or `limit` has passed (false).
bool wait_until(std::chrono::milliseconds limit, const std::function<bool()>& done);

// TCP ports in LISTEN state in the network namespace of process `pid` (/proc/PID/net/tcp{,6}).
std::set<std::uint16_t> listening_tcp_ports(pid_t pid);

// A value safe to write as one word of a tool's configuration file: printable, no blanks,
// quotes, comment characters or backslashes.
bool plain_word(const std::string& value);

}  // namespace netpol::live::lab
