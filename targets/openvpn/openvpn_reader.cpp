#include "openvpn_reader.h"

#include <algorithm>
#include <cstdint>

namespace netpol::openvpn {

namespace {
bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// 255.255.255.0 -> 24; nullopt when the mask is not contiguous.
std::optional<int> mask_prefix(const std::string& text) {
  auto parsed = parse_cidr(text);
  if (!parsed.cidr || parsed.cidr->family != Family::v4 || !parsed.cidr->is_host()) return std::nullopt;
  std::uint32_t m = 0;
  for (int i = 0; i < 4; ++i) m = (m << 8) | parsed.cidr->bytes[static_cast<std::size_t>(i)];
  int prefix = 0;
  while (prefix < 32 && (m & (0x80000000u >> prefix))) ++prefix;
  std::uint32_t expected = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
  if (m != expected) return std::nullopt;
  return prefix;
}
}  // namespace

std::optional<std::vector<std::string>> split_words(std::string_view line, std::string* error) {
  enum class State { initial, unquoted, quoted, single };
  std::vector<std::string> words;
  State state = State::initial;
  bool backslash = false;
  std::string word;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    char c = i < line.size() ? line[i] : '\0';
    bool done = false;
    if (backslash) {
      if (i == line.size()) break;  // a trailing backslash: an error below
      backslash = false;
      if (state == State::initial) state = State::unquoted;
      word += c;
      continue;
    }
    if (c == '\\' && state != State::single) {
      backslash = true;
      continue;
    }
    switch (state) {
      case State::initial:
        if (c == '\0' || blank(c)) break;
        if (c == '#' || c == ';') {
          i = line.size();  // the rest of the line is a comment
          break;
        }
        if (c == '"') state = State::quoted;
        else if (c == '\'') state = State::single;
        else {
          word += c;
          state = State::unquoted;
        }
        break;
      case State::unquoted:
        if (c == '\0' || blank(c)) done = true;
        else word += c;
        break;
      case State::quoted:
        if (c == '"') done = true;
        else if (c != '\0') word += c;
        break;
      case State::single:
        if (c == '\'') done = true;
        else if (c != '\0') word += c;
        break;
    }
    if (done) {
      words.push_back(word);
      word.clear();
      state = State::initial;
    }
  }
  if (state == State::quoted || state == State::single || backslash) {
    if (error) *error = state == State::quoted ? "no closing quotation (\")" : state == State::single ? "no closing quotation (')" : "residual backslash";
    return std::nullopt;
  }
  return words;
}

Config parse_config(std::string_view text) {
  Config config;
  int number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    auto first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && (line[first] == '#' || line[first] == ';')) {
      auto body = line.substr(first + 1);
      if (!body.empty() && body.front() == ' ') body.remove_prefix(1);
      config.comments.emplace_back(body);
      continue;
    }
    std::string error;
    auto words = split_words(line, &error);
    if (!words) {
      config.errors.push_back(std::to_string(number) + ": " + error);
      continue;
    }
    if (words->empty()) continue;
    Option o;
    o.line = number;
    o.name = words->front();
    o.args.assign(words->begin() + 1, words->end());
    config.options.push_back(std::move(o));
  }
  return config;
}

bool plain_value(std::string_view value) {
  if (value.empty()) return false;
  return std::all_of(value.begin(), value.end(), [](char c) {
    return c > 0x20 && c < 0x7f && c != '#' && c != ';' && c != '"' && c != '\'' && c != '\\';
  });
}

std::optional<Cidr> route_network(const std::vector<std::string>& words) {
  if (words.empty()) return std::nullopt;
  if (words[0] == "route-ipv6" && words.size() >= 2) {
    auto parsed = parse_cidr(words[1]);
    if (!parsed.cidr || parsed.cidr->family != Family::v6) return std::nullopt;
    return parsed.cidr;
  }
  if (words[0] == "route" && words.size() >= 2) {
    int prefix = 32;
    if (words.size() >= 3 && words[2] != "default" && words[2] != "net_gateway" && words[2] != "vpn_gateway") {
      auto p = mask_prefix(words[2]);
      if (!p) return std::nullopt;
      prefix = *p;
    }
    auto parsed = parse_cidr(words[1] + "/" + std::to_string(prefix));
    if (!parsed.cidr || parsed.cidr->family != Family::v4) return std::nullopt;  // host bits set: not a network
    return parsed.cidr;
  }
  return std::nullopt;
}

std::vector<Cidr> pushed_routes(const Config& config) {
  std::vector<Cidr> out;
  for (const auto& o : config.options) {
    if (o.name != "push" || o.args.size() != 1) continue;
    auto words = split_words(o.args[0]);
    if (!words) continue;
    if (auto net = route_network(*words)) out.push_back(*net);
  }
  return out;
}

}  // namespace netpol::openvpn
