#include "npm_values.h"

#include <regex>

#include "ip.h"

namespace netpol::npm {

namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (!is_lower_alnum(label.front()) || !is_lower_alnum(label.back())) return false;
  for (char c : label)
    if (!is_lower_alnum(c) && c != '-') return false;
  return true;
}

bool valid_policy_name(std::string_view name) {
  if (name.size() < 2 || name.size() > 18) return false;
  if (name.front() < 'a' || name.front() > 'z') return false;
  for (char c : name)
    if (!is_lower_alnum(c) && c != '-' && c != '_') return false;
  return true;
}

}  // namespace

bool valid_domain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (name.starts_with("*.")) name.remove_prefix(2);
  int labels = 0;
  while (true) {
    auto dot = name.find('.');
    if (!valid_label(name.substr(0, dot))) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return labels >= 2;
}

bool valid_ipv4(std::string_view text) {
  int octets = 0;
  while (true) {
    auto dot = text.find('.');
    auto part = text.substr(0, dot);
    if (part.empty() || part.size() > 3) return false;
    for (char c : part)
      if (c < '0' || c > '9') return false;
    if (part.size() > 1 && part.front() == '0') return false;
    if (std::stoi(std::string(part)) > 255) return false;
    ++octets;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return octets == 4;
}

bool valid_forward_host(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!ok) return false;
  }
  // All digits and dots: must then be a real IPv4 address (no "999.1.1.1", no "1.2.3").
  bool numeric = text.find_first_not_of("0123456789.") == std::string_view::npos;
  return !numeric || valid_ipv4(text);
}

bool valid_location_path(std::string_view text) {
  if (text.empty() || text.front() != '/') return false;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '~' || c == '/' || c == '%' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_access_list_name(std::string_view name) {
  if (name.size() > kMaxAccessListName || !name.starts_with(kAccessListPrefix)) return false;
  name.remove_prefix(kAccessListPrefix.size());
  while (true) {
    auto plus = name.find('+');
    if (!valid_policy_name(name.substr(0, plus))) return false;
    if (plus == std::string_view::npos) return true;
    name.remove_prefix(plus + 1);
  }
}

bool npm_schema_accepts_address(const std::string& text) {
  // common.json#/properties/address, oneOf: IPv4, IPv6 (sic: 'd' for '\d', '^s*'), "all".
  static const std::regex v4(R"(^([0-9]{1,3}\.){3}[0-9]{1,3}(/([0-9]|[1-2][0-9]|3[0-2]))?$)");
  static const std::regex v6(
      R"(^s*((([0-9A-Fa-f]{1,4}:){7}([0-9A-Fa-f]{1,4}|:))|(([0-9A-Fa-f]{1,4}:){6}(:[0-9A-Fa-f]{1,4}|((25[0-5]|2[0-4]d|1dd|[1-9]?d)(.(25[0-5]|2[0-4]d|1dd|[1-9]?d)){3})|:))|(([0-9A-Fa-f]{1,4}:){5}(((:[0-9A-Fa-f]{1,4}){1,2})|:((25[0-5]|2[0-4]d|1dd|[1-9]?d)(.(25[0-5]|2[0-4]d|1dd|[1-9]?d)){3})|:))|(([0-9A-Fa-f]{1,4}:){4}(((:[0-9A-Fa-f]{1,4}){1,3})|((:[0-9A-Fa-f]{1,4})?:((25[0-5]|2[0-4]d|1dd|[1-9]?d)(.(25[0-5]|2[0-4]d|1dd|[1-9]?d)){3}))|:))|(([0-9A-Fa-f]{1,4}:){3}(((:[0-9A-Fa-f]{1,4}){1,4})|((:[0-9A-Fa-f]{1,4}){0,2}:((25[0-5]|2[0-4]d|1dd|[1-9]?d)(.(25[0-5]|2[0-4]d|1dd|[1-9]?d)){3}))|:))|(([0-9A-Fa-f]{1,4}:){2}(((:[0-9A-Fa-f]{1,4}){1,5})|((:[0-9A-Fa-f]{1,4}){0,3}:((25[0-5]|2[0-4]d|1dd|[1-9]?d)(.(25[0-5]|2[0-4]d|1dd|[1-9]?d)){3}))|:))|(([0-9A-Fa-f]{1,4}:){1}(((:[0-9A-Fa-f]{1,4}){1,6})|((:[0-9A-Fa-f]{1,4}){0,4}:((25[0-5]|2[0-4]d|1dd|[1-9]?d)(.(25[0-5]|2[0-4]d|1dd|[1-9]?d)){3}))|:))|(:(((:[0-9A-Fa-f]{1,4}){1,7})|((:[0-9A-Fa-f]{1,4}){0,5}:((25[0-5]|2[0-4]d|1dd|[1-9]?d)(.(25[0-5]|2[0-4]d|1dd|[1-9]?d)){3}))|:)))(%.+)?s*(/([0-9]|[1-9][0-9]|1[0-1][0-9]|12[0-8]))?$)");
  if (text == "all") return true;
  return std::regex_match(text, v4) || std::regex_match(text, v6);
}

bool valid_client_address(std::string_view text) {
  if (text.empty() || text.size() > 43) return false;
  auto parsed = parse_cidr(text);
  if (!parsed.cidr || parsed.cidr->str() != text) return false;  // canonical, with its prefix length
  return npm_schema_accepts_address(std::string(text));
}

std::string nginx_file_name(std::string_view domain) {
  if (domain.starts_with("*.")) return "_wildcard." + std::string(domain.substr(2)) + ".conf";
  return std::string(domain) + ".conf";
}

}  // namespace netpol::npm
