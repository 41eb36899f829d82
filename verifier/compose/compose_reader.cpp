#include "compose_reader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "compose_codes.h"
#include "ip.h"

namespace netpol::compose {

namespace {

// ---- places -----------------------------------------------------------------------------------

// The byte offset of a yaml-cpp mark (0-based line and column, in bytes for UTF-8 input).
std::size_t offset_of(const SourceFile& f, const YAML::Mark& m) {
  if (m.line < 0 || static_cast<std::size_t>(m.line) >= f.line_starts.size()) return 0;
  auto line = f.line_text(m.line + 1);
  auto column = std::min(static_cast<std::size_t>(std::max(m.column, 0)), line.size());
  return f.line_starts[static_cast<std::size_t>(m.line)] + column;
}

// Where the scalar that starts at `begin` ends on its line: a quoted one at its closing quote,
// a plain one after its value (a multi-line scalar is cut at the line's end).
std::size_t token_end(const SourceFile& f, std::size_t begin, const std::string& value) {
  std::string_view text = f.text;
  auto line_end = text.find('\n', begin);
  if (line_end == std::string_view::npos) line_end = text.size();
  if (line_end > begin && text[line_end - 1] == '\r') --line_end;
  if (begin >= line_end) return begin;
  char quote = text[begin];
  if (quote == '"' || quote == '\'') {
    for (std::size_t i = begin + 1; i < line_end; ++i) {
      if (quote == '"' && text[i] == '\\') {
        ++i;
      } else if (text[i] == quote) {
        if (quote == '\'' && i + 1 < line_end && text[i + 1] == '\'') {
          ++i;  // '' is an escaped quote
        } else {
          return i + 1;
        }
      }
    }
    return line_end;
  }
  if (text.substr(begin, value.size()) == value && !value.empty()) return begin + value.size();
  return line_end;
}

class Places {
 public:
  Places(const SourceSet& sources, int file) : file_(file), f_(sources.file(file)) {}
  Span of(const YAML::Node& n) const {
    auto begin = offset_of(f_, n.Mark());
    auto end = n.IsScalar() ? token_end(f_, begin, n.Scalar()) : begin + 1;
    return {file_, begin, std::max(end, begin + 1)};
  }
  // From a key to the end of its value, when both are on one line.
  Span between(const YAML::Node& key, const YAML::Node& value) const {
    auto from = of(key);
    auto to = of(value);
    if (f_.position(from.begin).line == f_.position(to.begin).line) from.end = std::max(from.end, to.end);
    return from;
  }
  Span start() const { return {file_, 0, 1}; }

 private:
  int file_;
  const SourceFile& f_;
};

// ---- bounds -----------------------------------------------------------------------------------

// Whether the text nests deeper than kMaxNesting: flow brackets ([ {) outside quotes and comments,
// or block indentation (spaces and sequence dashes) beyond 4 columns a level. Checked before
// yaml-cpp parses, whose parser recurses once per level.
bool nests_too_deep(std::string_view text) {
  int depth = 0;
  bool line_start = true;
  std::size_t indent = 0;
  char quote = 0;
  bool comment = false;
  char previous = '\n';
  for (char c : text) {
    if (c == '\n') {
      line_start = true;
      indent = 0;
      comment = false;
      quote = quote == '\'' || quote == '"' ? quote : 0;
      previous = c;
      continue;
    }
    if (line_start) {
      if (c == ' ' || c == '-' || c == '\t') {
        if (++indent > static_cast<std::size_t>(4 * kMaxNesting)) return true;
        previous = c;
        continue;
      }
      line_start = false;
    }
    if (comment) continue;
    if (quote) {
      if (c == quote) quote = 0;
    } else if ((c == '"' || c == '\'') && (previous == ' ' || previous == '[' || previous == '{' || previous == ',' ||
                                           previous == ':' || previous == '-' || previous == '\n')) {
      quote = c;
    } else if (c == '#' && (previous == ' ' || previous == '\t' || previous == '\n')) {
      comment = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    previous = c;
  }
  return false;
}

// ---- ports ------------------------------------------------------------------------------------

std::optional<std::uint16_t> port_number(std::string_view s) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  unsigned value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// "8096" or "9000-9010"; `what` names it in the error.
std::optional<ir::PortRange> port_range(std::string_view s, const char* what, std::string& error) {
  auto dash = s.find('-');
  auto first = port_number(s.substr(0, dash));
  auto last = dash == std::string_view::npos ? first : port_number(s.substr(dash + 1));
  if (!first || !last) {
    error = std::string("the ") + what + " '" + std::string(s) + "' is not a port (1-65535) or a range of ports";
    return std::nullopt;
  }
  if (*first > *last) {
    error = std::string("the ") + what + " range '" + std::string(s) + "' is reversed (write the lower port first)";
    return std::nullopt;
  }
  return ir::PortRange{*first, *last};
}

std::optional<ir::Proto> protocol(std::string_view s, std::string& error) {
  if (s == "tcp") return ir::Proto::tcp;
  if (s == "udp") return ir::Proto::udp;
  if (s == "sctp")
    error = "sctp: the policy and ufw know tcp and udp only, so netpol cannot allow this port";
  else
    error = "unknown protocol '" + std::string(s) + "' (tcp, udp)";
  return std::nullopt;
}

int size(const ir::PortRange& r) { return r.last - r.first + 1; }

// Compose accepts a host range for one container port (Docker takes a free port of it) or
// ranges of one size.
bool sizes_fit(const std::optional<ir::PortRange>& host, const ir::PortRange& container, std::string& error) {
  if (!host || size(*host) == size(container) || size(container) == 1) return true;
  error = "the host ports " + range_text(*host) + " and the container ports " + range_text(container) +
          " are ranges of different sizes";
  return false;
}

bool has_variable(std::string_view s, std::string& error) {
  if (s.find('$') == std::string_view::npos) return false;
  error = "'" + std::string(s) +
          "' uses a variable: the audit reads the file as written, without .env or the environment; write the port "
          "literally";
  return true;
}

// ---- the compose document ---------------------------------------------------------------------

// A service's key, also through a YAML merge key (`<<: *defaults`), which yaml-cpp keeps as a key.
YAML::Node field(const YAML::Node& service, const char* key) {
  if (!service.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node own = service[key];
  if (own.IsDefined()) return own;
  const YAML::Node merged = service["<<"];
  if (!merged.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);  // a missing key: testing its type throws
  if (merged.IsMap()) {
    const YAML::Node inner = merged[key];
    if (inner.IsDefined()) return inner;
  } else if (merged.IsSequence()) {
    for (const auto& m : merged) {
      if (!m.IsMap()) continue;
      const YAML::Node inner = m[key];
      if (inner.IsDefined()) return inner;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

class Reader {
 public:
  Reader(const SourceSet& sources, int file, Diagnostics& diags, ComposeFile& out)
      : at_(sources, file), diags_(diags), out_(out) {}

  void document(const YAML::Node& root) {
    if (root.IsNull()) return;  // an empty file: no services
    if (!root.IsMap()) {
      bad(at_.of(root), "not a compose file: expected a map with a 'services' key at the top");
      return;
    }
    const YAML::Node services = root["services"];
    if (!services.IsDefined()) {
      bad(at_.start(), "not a compose file: no 'services' key at the top");
      return;
    }
    for (auto it = root.begin(); it != root.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == "services") out_.services_key = at_.between(it->first, it->first);
    if (services.IsNull()) return;
    if (!services.IsMap()) {
      bad(at_.of(services), "'services' must map each service's name to its definition");
      return;
    }
    for (auto it = services.begin(); it != services.end(); ++it) service(it->first, it->second);
  }

 private:
  void bad(Span span, std::string message) {
    diags_.error(code::kBadEntry, span, std::move(message))
        .hints.push_back("this entry is left out of the audit; `docker compose config` shows how Compose reads the file");
  }

  void service(const YAML::Node& key, const YAML::Node& body) {
    ++out_.services;
    Service s{key.IsScalar() ? key.Scalar() : "?", {}};
    if (body.IsNull()) return;
    if (!body.IsMap()) {
      bad(at_.of(body), "the service '" + s.name + "' must be a map of its settings");
      return;
    }
    if (auto profiles = field(body, "profiles"); profiles.IsDefined()) {
      if (!profiles.IsSequence()) bad(at_.of(profiles), "'profiles' must be a list of names");
      else
        for (const auto& p : profiles)
          if (p.IsScalar()) s.profiles.push_back(p.Scalar());
    }
    auto ports = field(body, "ports");
    if (auto mode = field(body, "network_mode"); mode.IsScalar() && mode.Scalar() == "host") {
      out_.host_network.push_back({s, ports.IsDefined() && !ports.IsNull(), network_mode_span(body, mode)});
      return;  // Docker ignores `ports` and `expose` on the host's network
    }
    if (ports.IsDefined() && !ports.IsNull()) {
      if (!ports.IsSequence()) bad(at_.of(ports), "'ports' must be a list");
      else
        for (const auto& entry : ports) port(s, entry);
    }
    if (auto expose = field(body, "expose"); expose.IsDefined() && !expose.IsNull()) {
      if (!expose.IsSequence()) bad(at_.of(expose), "'expose' must be a list");
      else
        for (const auto& entry : expose) exposed(s, entry);
    }
  }

  Span network_mode_span(const YAML::Node& body, const YAML::Node& mode) const {
    for (auto it = body.begin(); it != body.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == "network_mode") return at_.between(it->first, it->second);
    return at_.of(mode);
  }

  void port(const Service& s, const YAML::Node& entry) {
    if (entry.IsScalar()) return short_port(s, entry);
    if (entry.IsMap()) return long_port(s, entry);
    bad(at_.of(entry), "a 'ports' entry must be \"HOST:CONTAINER\" or a map with 'target'");
  }

  void short_port(const Service& s, const YAML::Node& entry) {
    std::string error;
    auto span = at_.of(entry);
    if (has_variable(entry.Scalar(), error)) return bad(span, error);
    auto p = parse_short_port(entry.Scalar(), error);
    if (!error.empty()) return bad(span, error);
    auto binding = binding_of(p.host_ip, error);
    if (!error.empty()) return bad(span, error);
    out_.published.push_back({s, p.host_ip, binding, p.host, p.container, p.proto, span, entry.Scalar()});
  }

  // The long syntax: target, published, host_ip, protocol, mode (mode and name change nothing here).
  void long_port(const Service& s, const YAML::Node& entry) {
    std::string error;
    PublishedPort p{s, {}, Binding::all, std::nullopt, {}, ir::Proto::tcp, at_.of(entry), {}};
    bool has_target = false, has_published = false;
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      // Copies: `it->` hands out a temporary pair, so a reference into it would dangle.
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      if (!key_node.IsScalar()) continue;
      const std::string key = key_node.Scalar();
      if (key != "target" && key != "published" && key != "host_ip" && key != "protocol") continue;
      auto span = at_.between(key_node, value);
      if (!value.IsScalar()) return bad(span, "'" + key + "' must be a single value");
      if (has_variable(value.Scalar(), error)) return bad(span, error);
      if (key == "target") {
        auto r = port_range(value.Scalar(), "target", error);
        if (!r) return bad(span, error);
        p.container = *r;
        p.span = span;
        has_target = true;
      } else if (key == "published") {
        if (value.Scalar().empty()) continue;  // published: "" is a random host port
        p.host = port_range(value.Scalar(), "published port", error);
        if (!p.host) return bad(span, error);
        has_published = true;
      } else if (key == "host_ip") {
        p.host_ip = value.Scalar();
        if (p.host_ip.size() > 2 && p.host_ip.front() == '[' && p.host_ip.back() == ']')
          p.host_ip = p.host_ip.substr(1, p.host_ip.size() - 2);
        p.binding = binding_of(p.host_ip, error);
        if (!error.empty()) return bad(span, error);
      } else {
        auto proto = protocol(value.Scalar(), error);
        if (!proto) return bad(span, error);
        p.proto = *proto;
      }
    }
    if (!has_target) return bad(at_.of(entry), "a long 'ports' entry needs 'target' (the container port)");
    // Its short equivalent, for the report: [IP:][PUBLISHED:]TARGET[/PROTOCOL].
    auto ip = p.host_ip.find(':') != std::string::npos ? "[" + p.host_ip + "]" : p.host_ip;
    p.text = (ip.empty() ? "" : ip + ":") + (p.host ? range_text(*p.host) + ":" : ip.empty() ? "" : ":") +
             range_text(p.container) + (p.proto == ir::Proto::udp ? "/udp" : "");
    if (!sizes_fit(p.host, p.container, error)) return bad(p.span, error);
    if (has_published) {  // point at the published port: that is what the host serves
      for (auto it = entry.begin(); it != entry.end(); ++it)
        if (it->first.IsScalar() && it->first.Scalar() == "published") p.span = at_.between(it->first, it->second);
    }
    out_.published.push_back(std::move(p));
  }

  void exposed(const Service& s, const YAML::Node& entry) {
    auto span = at_.of(entry);
    if (!entry.IsScalar()) return bad(span, "an 'expose' entry must be a port, a range, or PORT/PROTOCOL");
    std::string error;
    if (has_variable(entry.Scalar(), error)) return bad(span, error);
    auto p = parse_short_port(entry.Scalar(), error);
    if (error.empty() && (p.host || !p.host_ip.empty()))
      error = "an 'expose' entry is a container port only; publishing belongs in 'ports'";
    if (!error.empty()) return bad(span, error);
    out_.exposed.push_back({s, p.container, p.proto, span});
  }

  Places at_;
  Diagnostics& diags_;
  ComposeFile& out_;
};

}  // namespace

std::string range_text(const ir::PortRange& r) {
  return r.first == r.last ? std::to_string(r.first) : std::to_string(r.first) + "-" + std::to_string(r.last);
}

ShortPort parse_short_port(std::string_view text, std::string& error) {
  ShortPort out;
  error.clear();
  std::string_view rest = text;
  if (auto slash = rest.rfind('/'); slash != std::string_view::npos) {
    auto proto = protocol(rest.substr(slash + 1), error);
    if (!proto) return out;
    out.proto = *proto;
    rest = rest.substr(0, slash);
  }
  // From the right: the container port, then the host port (may be empty: random), then the address.
  auto colon = rest.rfind(':');
  auto container = port_range(colon == std::string_view::npos ? rest : rest.substr(colon + 1), "container port", error);
  if (!container) return out;
  out.container = *container;
  if (colon == std::string_view::npos) return out;
  rest = rest.substr(0, colon);
  auto host_colon = rest.rfind(':');
  // An unbracketed IPv6 address without a host port ("::1:80" style) is ambiguous; Docker needs brackets.
  if (host_colon != std::string_view::npos && !rest.empty() && rest.back() == ']') host_colon = std::string_view::npos;
  auto host_port = host_colon == std::string_view::npos ? rest : rest.substr(host_colon + 1);
  if (host_colon != std::string_view::npos) {
    auto ip = rest.substr(0, host_colon);
    if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    if (ip.empty()) {
      error = "'" + std::string(text) + "' has an empty host address before the host port";
      return out;
    }
    out.host_ip = std::string(ip);
  } else if (host_port.size() >= 2 && host_port.front() == '[' && host_port.back() == ']') {
    error = "'" + std::string(text) + "' names an address without a host port: write [ADDRESS]::PORT for a random one";
    return out;
  }
  if (!host_port.empty()) {
    out.host = port_range(host_port, "host port", error);
    if (!out.host) return out;
  }
  sizes_fit(out.host, out.container, error);
  return out;
}

Binding binding_of(const std::string& host_ip, std::string& error) {
  error.clear();
  if (host_ip.empty()) return Binding::all;
  auto parsed = parse_cidr(host_ip);
  if (!parsed.cidr || !parsed.cidr->is_host() || host_ip.find('/') != std::string::npos) {
    error = "the host address '" + host_ip + "' is not an IPv4 or IPv6 address";
    return Binding::all;
  }
  const auto& a = *parsed.cidr;
  bool zero = std::all_of(a.bytes.begin(), a.bytes.end(), [](std::uint8_t b) { return b == 0; });
  if (zero) return Binding::all;  // 0.0.0.0 and ::
  if (a.family == Family::v4 && a.bytes[0] == 127) return Binding::loopback;
  if (a.family == Family::v6 && a.bytes[15] == 1 &&
      std::all_of(a.bytes.begin(), a.bytes.begin() + 15, [](std::uint8_t b) { return b == 0; }))
    return Binding::loopback;
  return Binding::address;
}

ComposeFile read_compose(const SourceSet& sources, int file, Diagnostics& diags) {
  ComposeFile out;
  out.file = file;
  const auto& f = sources.file(file);
  Span start{file, 0, 1};
  out.services_key = start;
  if (f.text.size() > kMaxFileBytes) {
    diags.error(code::kUnreadable, start,
                "the file has " + std::to_string(f.text.size()) + " bytes; a compose file may have at most " +
                    std::to_string(kMaxFileBytes));
    return out;
  }
  if (nests_too_deep(f.text)) {
    diags.error(code::kUnreadable, start,
                "the file nests deeper than " + std::to_string(kMaxNesting) + " levels; a compose file needs a few");
    return out;
  }
  YAML::Node root;
  try {
    root = YAML::Load(f.text);
  } catch (const YAML::Exception& e) {
    auto offset = offset_of(f, e.mark);
    diags.error(code::kUnreadable, Span{file, offset, offset + 1}, "not valid YAML: " + e.msg);
    return out;
  }
  out.readable = true;
  Reader(sources, file, diags, out).document(root);
  return out;
}

}  // namespace netpol::compose
