#include "parser.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <tao/pegtl/contrib/parse_tree.hpp>

#include "diagnostic_codes.h"
#include "grammar.h"

namespace netpol {
namespace {

namespace pegtl = tao::pegtl;
namespace g = grammar;
using Node = pegtl::parse_tree::node;

// The rules that become nodes of the parse tree; everything else is folded away.
template <typename Rule>
using selector = pegtl::parse_tree::selector<
    Rule,
    pegtl::parse_tree::store_content::on<
        g::include_stmt, g::include_path, g::address_stmt, g::address_target, g::address_text, g::address_next,
        g::service_stmt, g::service_decl_name, g::l4_spec, g::l4_proto, g::icmp_spec, g::icmp_type,
        g::port_range, g::port_range_next, g::port_first, g::port_last, g::service_ref, g::service_ref_next,
        g::service_name, g::zone_stmt, g::zone_name, g::parent_name, g::bridge_name, g::host_stmt,
        g::node_stmt, g::host_name, g::host_zone, g::vmid_value, g::docker_prop, g::compose_path, g::rule_stmt, g::rule_kind, g::source_name,
        g::source_next, g::dest_name, g::dest_next, g::vpn_stmt, g::vpn_name, g::vpn_server, g::vpn_listen,
        g::vpn_listen_service, g::vpn_listen_from, g::vpn_pool_zone, g::vpn_route, g::publish_stmt, g::domain,
        g::proxy_name, g::backend_name, g::backend_service, g::publish_from, g::publish_tls,
        g::publish_websocket>>;

template <typename Rule>
using control = pegtl::must_if<g::errors>::control<Rule>;

// Turns one statement's parse tree into an AST statement.
class TreeBuilder {
 public:
  TreeBuilder(int file, Diagnostics& diags) : file_(file), diags_(diags) {}

  Span span(const Node& n) const { return {file_, n.m_begin.byte, n.m_end.byte}; }
  ast::Name name(const Node& n) const { return {n.string(), span(n)}; }

  template <typename... Types>
  static bool is(const Node& n) {
    return (n.is_type<Types>() || ...);
  }

  // Every name among the node's children whose rule is one of Types.
  template <typename... Types>
  std::vector<ast::Name> names(const Node& parent) const {
    std::vector<ast::Name> out;
    for (const auto& c : parent.children)
      if (is<Types...>(*c)) out.push_back(name(*c));
    return out;
  }

  template <typename Type>
  const Node* child(const Node& parent) const {
    for (const auto& c : parent.children)
      if (c->is_type<Type>()) return c.get();
    return nullptr;
  }

  static long number(const Node& n) {
    auto text = n.string_view();
    if (text.size() > 12) return 999'999'999'999;  // out of every range; resolve reports it
    long v = 0;
    for (char c : text) v = v * 10 + (c - '0');
    return v;
  }

  ast::PortSpec port_spec(const Node& n) const {
    ast::PortSpec spec;
    spec.span = span(n);
    if (n.is_type<g::icmp_spec>()) {
      spec.proto = "icmp";
      if (auto* t = child<g::icmp_type>(n)) spec.icmp_type = name(*t);
      return spec;
    }
    spec.proto = std::string(child<g::l4_proto>(n)->string_view());
    for (const auto& r : n.children) {
      if (!is<g::port_range, g::port_range_next>(*r)) continue;
      ast::PortRange range;
      range.span = span(*r);
      range.first = number(*child<g::port_first>(*r));
      auto* last = child<g::port_last>(*r);
      range.last = last ? number(*last) : range.first;
      spec.ports.push_back(range);
    }
    return spec;
  }

  // A service reference node wraps either a port spec or a service name.
  ast::ServiceRef service_ref(const Node& n) const {
    for (const auto& c : n.children) {
      if (is<g::l4_spec, g::icmp_spec>(*c)) return {port_spec(*c)};
      if (c->is_type<g::service_name>()) return {name(*c)};
    }
    return {name(n)};  // unreachable for well-formed trees
  }

  std::vector<ast::PortSpec> port_specs(const Node& parent) const {
    std::vector<ast::PortSpec> out;
    for (const auto& c : parent.children) {
      if (is<g::l4_spec, g::icmp_spec>(*c)) out.push_back(port_spec(*c));
      else if (!c->children.empty()) for (auto& s : port_specs(*c)) out.push_back(std::move(s));
    }
    return out;
  }

  ast::Statement build(const Node& n) const {
    if (n.is_type<g::address_stmt>()) {
      ast::AddressDecl d{name(*child<g::address_target>(n)), names<g::address_text, g::address_next>(n), span(n)};
      return d;
    }
    if (n.is_type<g::zone_stmt>()) {
      ast::ZoneDecl d{name(*child<g::zone_name>(n)), {}, {}, span(n)};
      if (auto* p = child<g::parent_name>(n)) d.parent = name(*p);
      if (auto* b = child<g::bridge_name>(n)) d.bridge = name(*b);
      for (const auto& c : n.children)
        if (c->is_type<g::bridge_name>() && c.get() != child<g::bridge_name>(n)) repeated(*c, "'bridge'");
      return d;
    }
    if (is<g::host_stmt, g::node_stmt>(n)) {
      ast::HostDecl d{name(*child<g::host_name>(n)), name(*child<g::host_zone>(n)), n.is_type<g::node_stmt>(),
                      {}, {}, span(n), false, {}};
      if (auto* v = child<g::vmid_value>(n)) {
        d.vmid = number(*v);
        for (const auto& c : n.children)
          if (c->is_type<g::vmid_value>() && c.get() != v) repeated(*c, "'vmid'");
        d.vmid_span = span(*v);
      }
      if (auto* dk = child<g::docker_prop>(n)) {
        d.docker = true;
        for (const auto& c : n.children)
          if (c->is_type<g::docker_prop>() && c.get() != dk) repeated(*c, "'docker'");
        for (const auto& c : dk->children)
          if (c->is_type<g::compose_path>()) d.compose_files.push_back(name(*c));
      }
      return d;
    }
    if (n.is_type<g::service_stmt>()) {
      return ast::ServiceDecl{name(*child<g::service_decl_name>(n)), port_specs(n), span(n)};
    }
    if (n.is_type<g::rule_stmt>()) {
      ast::RuleDecl d;
      auto kind = child<g::rule_kind>(n)->string_view();
      d.kind = kind == "allow" ? ast::RuleKind::allow : kind == "deny" ? ast::RuleKind::deny : ast::RuleKind::never;
      d.sources = names<g::source_name, g::source_next>(n);
      d.destinations = names<g::dest_name, g::dest_next>(n);
      for (const auto& c : n.children)
        if (is<g::service_ref, g::service_ref_next>(*c)) d.services.push_back(service_ref(*c));
      d.span = span(n);
      return d;
    }
    if (n.is_type<g::vpn_stmt>()) {
      ast::VpnDecl d;
      d.name = name(*child<g::vpn_name>(n));
      d.server = name(*child<g::vpn_server>(n));
      d.span = span(n);
      for (const auto& c : n.children) {
        if (c->is_type<g::vpn_listen>()) {
          if (d.listen) repeated(*c, "'listen'");
          d.listen = service_ref(*child<g::vpn_listen_service>(*c));
          d.listen_from = names<g::source_name, g::source_next>(*child<g::vpn_listen_from>(*c));
        } else if (c->is_type<g::vpn_pool_zone>()) {
          if (d.pool) repeated(*c, "'pool'");
          d.pool = name(*c);
        } else if (c->is_type<g::vpn_route>()) {
          for (auto& r : names<g::dest_name, g::dest_next>(*c)) d.routes.push_back(std::move(r));
        }
      }
      return d;
    }
    // publish
    ast::PublishDecl d;
    d.domain = name(*child<g::domain>(n));
    d.proxy = name(*child<g::proxy_name>(n));
    d.backend = name(*child<g::backend_name>(n));
    d.service = name(*child<g::backend_service>(n));
    d.tls = child<g::publish_tls>(n) != nullptr;
    d.websocket = child<g::publish_websocket>(n) != nullptr;
    for (const auto& c : n.children)
      if (c->is_type<g::publish_from>())
        for (auto& f : names<g::source_name, g::source_next>(*c)) d.from.push_back(std::move(f));
    d.span = span(n);
    return d;
  }

 private:
  // A property that may appear once, given again.
  void repeated(const Node& n, const std::string& what) const {
    diags_.error(code::kRepeatedProperty, span(n), what + " is given twice in one block");
  }

  template <typename Type>
  std::size_t count(const Node& parent) const {
    return static_cast<std::size_t>(std::count_if(parent.children.begin(), parent.children.end(),
                                                  [](const auto& c) { return c->template is_type<Type>(); }));
  }

  int file_;
  Diagnostics& diags_;
};

bool starts_statement(std::string_view line) {
  static constexpr std::string_view kKeywords[] = {"include", "address", "zone", "host",  "node",   "service",
                                                   "allow",   "deny",    "never", "vpn", "publish"};
  auto first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos) return false;
  line.remove_prefix(first);
  for (auto kw : kKeywords)
    if (line.substr(0, kw.size()) == kw &&
        (line.size() == kw.size() || line[kw.size()] == ' ' || line[kw.size()] == '\t'))
      return true;
  return false;
}

// After a syntax error at `offset`, resume at the next line that can start a
// statement: its first word is a statement keyword, or it has text in the first
// column (not a comment, not a closing brace) -- which is then parsed, and
// reported if it is not a statement. Indented lines continue the broken statement.
std::size_t recovery_point(const std::string& text, std::size_t offset) {
  std::size_t pos = text.find('\n', offset);
  while (pos != std::string::npos) {
    std::size_t line_start = pos + 1;
    std::size_t line_end = text.find('\n', line_start);
    auto line = std::string_view(text).substr(line_start, line_end == std::string::npos ? std::string::npos
                                                                                        : line_end - line_start);
    bool first_column = !line.empty() && !std::isspace(static_cast<unsigned char>(line[0])) && line[0] != '#' &&
                        line[0] != '}';
    if (first_column || starts_statement(line)) return line_start;
    pos = line_end;
  }
  return text.size();
}

struct IncludeRequest {
  std::string path;  // as written
  Span span;
};

// Parses one file's statements; includes are returned in place as nullopt + request.
using Item = std::variant<ast::Statement, IncludeRequest>;

std::vector<Item> parse_file(int file_id, const SourceSet& sources, Diagnostics& diags) {
  const std::string& text = sources.file(file_id).text;
  std::vector<Item> items;
  std::size_t base = 0;
  while (base <= text.size()) {
    // Start the input at its true line and column, so `bol` in the grammar holds.
    auto lc = sources.file(file_id).position(base);
    pegtl::memory_input in(text.data() + base, text.data() + text.size(), sources.file(file_id).display_path, base,
                           static_cast<std::size_t>(lc.line), static_cast<std::size_t>(lc.column));
    try {
      auto root = pegtl::parse_tree::parse<g::next_statement, selector, pegtl::nothing, control>(in);
      if (!root || root->children.empty()) break;  // end of file
      TreeBuilder builder(file_id, diags);
      const Node& stmt = *root->children.front();
      if (stmt.is_type<g::include_stmt>()) {
        auto* path = builder.child<g::include_path>(stmt);
        items.emplace_back(IncludeRequest{path->string(), builder.span(stmt)});
      } else {
        items.emplace_back(builder.build(stmt));
      }
      base += static_cast<std::size_t>(in.current() - (text.data() + base));
    } catch (const pegtl::parse_error& e) {
      std::size_t at = e.positions().front().byte;  // the input counts from the file's start
      std::size_t end = at;
      while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
      // Something missing before the next statement is reported where it is missing:
      // at the end of the line before, not at the next statement's keyword.
      std::size_t back = at;
      while (back > 0 && std::isspace(static_cast<unsigned char>(text[back - 1]))) --back;
      if (text.find('\n', back) < at && starts_statement(std::string_view(text).substr(at))) at = end = back;
      diags.error(code::kSyntax, {file_id, at, end}, std::string(e.message()));
      base = recovery_point(text, at);
      if (base >= text.size()) break;
    }
  }
  return items;
}

class IncludeWalker {
 public:
  IncludeWalker(FileReader* reader, SourceSet& sources, Diagnostics& diags, std::filesystem::path entry_dir)
      : reader_(reader), sources_(sources), diags_(diags), entry_dir_(std::move(entry_dir)) {}

  void walk(int file_id, const std::filesystem::path& display, ast::Policy& out) {
    stack_.push_back(display.lexically_normal().string());
    included_.emplace(stack_.back(), Span{});
    for (auto& item : parse_file(file_id, sources_, diags_)) {
      if (auto* stmt = std::get_if<ast::Statement>(&item)) {
        out.statements.push_back(std::move(*stmt));
        continue;
      }
      auto& inc = std::get<IncludeRequest>(item);
      include(inc, display, out);
    }
    stack_.pop_back();
  }

 private:
  void include(const IncludeRequest& inc, const std::filesystem::path& from, ast::Policy& out) {
    std::filesystem::path target = (from.parent_path() / inc.path).lexically_normal();
    if (inc.path.empty()) {
      diags_.error(code::kIncludeMissing, inc.span, "include needs a file name");
      return;
    }
    for (const auto& open : stack_) {
      if (open == target.string()) {
        auto& d = diags_.error(code::kIncludeCycle, inc.span, "include cycle: '" + target.string() + "' is already being read");
        std::string chain;
        for (const auto& s : stack_) chain += s + " -> ";
        d.hints.push_back("the chain is " + chain + target.string());
        return;
      }
    }
    if (auto [it, fresh] = included_.emplace(target.string(), inc.span); !fresh) {
      auto& d = diags_.error(code::kIncludedTwice, inc.span, "'" + target.string() + "' is already included");
      if (it->second.valid()) d.notes.push_back({it->second, "included here"});
      d.hints.push_back("include each file once: its statements would be defined twice");
      return;
    }
    if (static_cast<int>(stack_.size()) >= kMaxIncludeDepth) {
      diags_.error(code::kIncludeDepth, inc.span,
                   "includes are nested more than " + std::to_string(kMaxIncludeDepth) + " deep");
      return;
    }
    std::string error = "includes are not followed here";
    std::optional<std::string> content;
    if (reader_) content = reader_->read(target.string(), error);
    if (!content) {
      diags_.error(code::kIncludeMissing, inc.span, "cannot read included file '" + target.string() + "': " + error);
      return;
    }
    std::string relative = entry_dir_.empty() ? target.string() : target.lexically_relative(entry_dir_).string();
    int id = sources_.add(target.string(), relative, std::move(*content));
    walk(id, target, out);
  }

  FileReader* reader_;
  SourceSet& sources_;
  Diagnostics& diags_;
  std::filesystem::path entry_dir_;
  std::vector<std::string> stack_;
  std::map<std::string, Span> included_;  // every file read so far, with the include that read it
};

}  // namespace

ast::Policy parse_policy(const std::string& entry_path, FileReader& reader, SourceSet& sources,
                         Diagnostics& diags) {
  ast::Policy policy;
  std::string error;
  auto content = reader.read(entry_path, error);
  if (!content) {
    diags.error(code::kIncludeMissing, {}, "cannot read '" + entry_path + "': " + error);
    return policy;
  }
  std::filesystem::path entry(entry_path);
  int id = sources.add(entry_path, entry.filename().string(), std::move(*content));
  IncludeWalker walker(&reader, sources, diags, entry.parent_path().lexically_normal());
  walker.walk(id, entry, policy);
  return policy;
}

ast::Policy parse_text(std::string_view text, const std::string& display_path, SourceSet& sources,
                       Diagnostics& diags) {
  ast::Policy policy;
  int id = sources.add(display_path, display_path, std::string(text));
  IncludeWalker walker(nullptr, sources, diags, {});
  walker.walk(id, display_path, policy);
  return policy;
}

}  // namespace netpol
