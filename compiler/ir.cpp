#include "ir.h"

#include "icmp_types.h"

namespace netpol::ir {

std::string to_string(Proto p) {
  switch (p) {
    case Proto::tcp: return "tcp";
    case Proto::udp: return "udp";
    case Proto::icmp: return "icmp";
  }
  return "?";
}

std::string ServicePort::str() const {
  std::string out = to_string(proto);
  if (proto == Proto::icmp) {
    if (range.first == 0 && range.last == kIcmpTypeMax) return out;
    if (range.first == range.last) {
      if (auto name = icmp_type_name(range.first)) return out + "/" + *name;
    }
    return out + "/" + std::to_string(range.first) + "-" + std::to_string(range.last);
  }
  out += "/" + std::to_string(range.first);
  if (range.last != range.first) out += "-" + std::to_string(range.last);
  return out;
}

std::string Policy::describe(const FlowEnd& end) const {
  std::string out = name_of(end.endpoint);
  if (end.except_hosts.empty()) return out;
  out += " (other than";
  for (std::size_t i = 0; i < end.except_hosts.size(); ++i)
    out += (i ? ", " : " ") + hosts[static_cast<std::size_t>(end.except_hosts[i])].name;
  return out + ")";
}

std::optional<int> Policy::find_zone(const std::string& name) const {
  for (std::size_t i = 0; i < zones.size(); ++i)
    if (zones[i].name == name) return static_cast<int>(i);
  return std::nullopt;
}

std::optional<int> Policy::find_host(const std::string& name) const {
  for (std::size_t i = 0; i < hosts.size(); ++i)
    if (hosts[i].name == name) return static_cast<int>(i);
  return std::nullopt;
}

}  // namespace netpol::ir
