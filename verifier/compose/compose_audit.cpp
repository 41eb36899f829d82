#include "compose_audit.h"

#include <algorithm>

#include "compose_codes.h"

namespace netpol::compose {

namespace {

using ir::Endpoint;

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

// "the service 'db'", with the profiles that start it when it is not always started.
std::string service_words(const Service& s) {
  std::string out = "the service '" + s.name + "'";
  if (!s.profiles.empty())
    out += std::string(" (started only with the profile") + (s.profiles.size() > 1 ? "s " : " ") +
           quoted_list(s.profiles) + ")";
  return out;
}

std::string where_words(const PublishedPort& p, const std::string& host) {
  return p.binding == Binding::all ? "on every address of " + host : "on " + p.host_ip + " of " + host;
}

std::string port_text(ir::Proto proto, const ir::PortRange& r) { return ir::ServicePort{proto, r}.str(); }

// Every flow of the matrix to `host` on `port`, from any other atom.
std::vector<ir::Flow> flows_to(const ir::Policy& policy, const Matrix& matrix, int host, const ir::ServicePort& port) {
  std::vector<ir::Flow> out;
  Endpoint destination{Endpoint::Kind::host, host};
  auto collect = [&](const Endpoint& source) {
    for (auto& f : matrix.allowed(source, destination, port))
      if (!(f.source.endpoint.kind == Endpoint::Kind::host && f.source.endpoint.id == host)) out.push_back(f);
  };
  for (std::size_t z = 0; z < policy.zones.size(); ++z) collect({Endpoint::Kind::zone, static_cast<int>(z)});
  for (std::size_t h = 0; h < policy.hosts.size(); ++h)  // hosts outside every zone (zones cover the rest)
    if (policy.hosts[h].zone < 0) collect({Endpoint::Kind::host, static_cast<int>(h)});
  return out;
}

// The parts of `range` no flow covers.
std::vector<ir::PortRange> uncovered(ir::PortRange range, std::vector<ir::Flow> flows) {
  std::sort(flows.begin(), flows.end(), [](const auto& a, const auto& b) { return a.ports.first < b.ports.first; });
  std::vector<ir::PortRange> out;
  long cursor = range.first;
  for (const auto& f : flows) {
    if (f.ports.last < cursor) continue;
    if (f.ports.first > cursor) out.push_back({static_cast<std::uint16_t>(cursor), static_cast<std::uint16_t>(f.ports.first - 1)});
    cursor = static_cast<long>(f.ports.last) + 1;
    if (cursor > range.last) break;
  }
  if (cursor <= range.last) out.push_back({static_cast<std::uint16_t>(cursor), range.last});
  return out;
}

// The first `never` that forbids some port of `gaps` to `host`: from every zone (`never any -> ...`,
// the policy keeps the port local) when `from_everywhere`, else from any source.
const ir::Invariant* never_for(const ir::Policy& policy, int host, ir::Proto proto, const std::vector<ir::PortRange>& gaps,
                               bool from_everywhere) {
  int zone = policy.hosts[static_cast<std::size_t>(host)].zone;
  for (const auto& inv : policy.invariants) {
    bool to_host = std::any_of(inv.destinations.begin(), inv.destinations.end(), [&](const Endpoint& d) {
      return (d.kind == Endpoint::Kind::host && d.id == host) || (d.kind == Endpoint::Kind::zone && d.id == zone);
    });
    if (!to_host || inv.sources.empty()) continue;
    if (from_everywhere) {
      std::vector<bool> zones(policy.zones.size(), false);
      for (const auto& s : inv.sources)
        if (s.kind == Endpoint::Kind::zone) zones[static_cast<std::size_t>(s.id)] = true;
      if (std::find(zones.begin(), zones.end(), false) != zones.end()) continue;
    }
    for (const auto& s : inv.services)
      for (const auto& g : gaps)
        if (s.port.proto == proto && s.port.range.first <= g.last && g.first <= s.port.range.last) return &inv;
  }
  return nullptr;
}

// The matrix splits a zone into its hosts and the rest; when one rule allows the same ports from
// all of them, the report names the zone once.
std::vector<ir::Flow> whole_zones(const std::vector<ir::Flow>& flows) {
  auto same = [](const ir::Flow& a, const ir::Flow& b) {
    return a.rule == b.rule && a.proto == b.proto && a.ports == b.ports;
  };
  std::vector<ir::Flow> out;
  std::vector<bool> merged(flows.size(), false);
  for (std::size_t i = 0; i < flows.size(); ++i) {
    if (merged[i]) continue;
    auto f = flows[i];
    if (f.source.endpoint.kind == Endpoint::Kind::zone && !f.source.except_hosts.empty()) {
      std::vector<std::size_t> parts;
      for (int h : f.source.except_hosts) {
        for (std::size_t j = 0; j < flows.size(); ++j) {
          const auto& g = flows[j];
          if (!merged[j] && j != i && same(f, g) && g.source.endpoint == Endpoint{Endpoint::Kind::host, h}) {
            parts.push_back(j);
            break;
          }
        }
      }
      if (parts.size() == f.source.except_hosts.size()) {
        for (auto j : parts) merged[j] = true;
        f.source.except_hosts.clear();
      }
    }
    out.push_back(f);
  }
  return out;
}

class Auditor {
 public:
  Auditor(const ir::Policy& policy, const Matrix& matrix, int host, Diagnostics& diags)
      : policy_(policy), matrix_(matrix), host_(host), name_(policy.hosts[static_cast<std::size_t>(host)].name),
        diags_(diags) {}

  PortReport published(const PublishedPort& p) {
    // The port clients connect to, which netpol's Docker part matches (conntrack's original
    // destination): the published host port; with a random one, only the container's is known.
    const ir::PortRange checked = p.host.value_or(p.container);
    PortReport row{p.span, p.service.name, p.service.profiles, p.text, p.host_ip,
                   p.host ? range_text(*p.host) : "random", port_text(p.proto, checked), Verdict::local, {}};
    if (p.binding == Binding::loopback) return row;  // only the host itself reaches it: no rule needed
    auto flows = flows_to(policy_, matrix_, host_, {p.proto, checked});
    for (const auto& f : whole_zones(flows)) {
      const auto& rule = policy_.rules[static_cast<std::size_t>(f.rule)];
      row.grants.push_back({policy_.describe(f.source), port_text(f.proto, f.ports), rule.location.where(), rule.text});
    }
    auto gaps = uncovered(checked, flows);
    row.verdict = Verdict::allowed;
    if (!gaps.empty()) {  // the error says what matters; the port warnings below are for ports meant to be served
      not_allowed(p, gaps, row);
      return row;
    }
    if (!p.host) {
      auto& d = diags_.warning(code::kRandomPort, p.span,
                               service_words(p.service) + " publishes container port " + row.checked +
                                   " on a random host port " + where_words(p, name_));
      d.hints.push_back("clients, and a firewall written before the container starts, cannot know a random port: write "
                        "HOST:CONTAINER (\"" + range_text(p.container) + ":" + range_text(p.container) +
                        "\"), or remove the entry if only other containers use it (they reach it by service name)");
    } else if (*p.host != p.container) {
      auto& d = diags_.warning(code::kPortRemapped, p.span,
                               service_words(p.service) + " publishes host port " + row.checked +
                                   " for container port " + port_text(p.proto, p.container) + " " + where_words(p, name_));
      d.hints.push_back("netpol's Docker part (DOCKER-USER) matches the published port " + row.checked +
                        ", which the policy names; the container itself listens on " + range_text(p.container) +
                        ", which is what other containers and a probe from inside the host must use");
      d.hints.push_back("publish the same port on both sides (\"" + range_text(p.container) + ":" +
                        range_text(p.container) + "\") so the policy and the clients name one port");
    }
    return row;
  }

  PortReport exposed(const ExposedPort& p) {
    return {p.span, p.service.name, p.service.profiles, "expose " + range_text(p.container), {}, {},
            port_text(p.proto, p.container), Verdict::not_published, {}};
  }

  PortReport host_network(const HostNetwork& h) {
    auto& d = diags_.warning(code::kHostNetwork, h.span,
                             service_words(h.service) + " runs on the host's network: whatever it listens on is open on " +
                                 name_ + "'s own addresses, and the compose file does not say which ports" +
                                 (h.lists_ports ? " (Docker ignores its 'ports')" : ""));
    d.hints.push_back("the host's ufw INPUT rules filter it like any other service of " + name_ +
                      ": make sure the policy allows exactly the ports it listens on");
    d.hints.push_back("or give it a bridge network (remove network_mode) and publish its ports, which this audit checks");
    return {h.span, h.service.name, h.service.profiles, {}, {}, {}, {}, Verdict::host_network, {}};
  }

 private:
  void not_allowed(const PublishedPort& p, const std::vector<ir::PortRange>& gaps, PortReport& row) {
    std::string which = row.checked;
    if (gaps.size() != 1 || gaps[0] != p.host.value_or(p.container)) {
      which.clear();
      for (const auto& g : gaps) which += (which.empty() ? "" : ", ") + port_text(p.proto, g);
    }
    // A `never` on the container's port counts too: "15432:5432" still publishes Postgres.
    const auto* inv = never_for(policy_, host_, p.proto, gaps, true);
    if (!inv) inv = never_for(policy_, host_, p.proto, {p.container}, true);
    if (inv) {
      row.verdict = Verdict::kept_local;
      auto& d = diags_.error(code::kKeptLocal, p.span,
                             service_words(p.service) + " publishes " + which + " " + where_words(p, name_) +
                                 ", which the policy keeps local: '" + inv->text + "' (" + inv->location.where() + ")");
      d.hints.push_back("bind it to the loopback address (\"127.0.0.1:" + range_text(p.host.value_or(p.container)) + ":" +
                        range_text(p.container) + "\", or host_ip: 127.0.0.1) or remove the ports entry: containers "
                        "of the same compose project reach it by service name without publishing");
      d.hints.push_back("Docker publishes ports through its own NAT and FORWARD rules, before ufw's INPUT rules: the "
                        "invariant holds for the firewall only with netpol's Docker-aware ufw output applied");
      return;
    }
    row.verdict = Verdict::exposed;
    auto& d = diags_.error(code::kExposed, p.span,
                           service_words(p.service) + " publishes " + which + " " + where_words(p, name_) +
                               ", and no flow of the policy allows it");
    d.hints.push_back("Docker publishes ports through its own NAT and FORWARD rules, before ufw's INPUT rules: anyone "
                      "who can route to " + name_ + " reaches this port unless netpol's Docker-aware ufw output "
                      "(DOCKER-USER through ufw) is applied, and then nobody does");
    d.hints.push_back("allow it in the policy (allow SOURCE -> " + name_ + " : " + which +
                      "), bind it to 127.0.0.1 if only the host uses it, or remove the entry if only other containers do");
    if (const auto* some = never_for(policy_, host_, p.proto, gaps, false))
      d.hints.push_back("the policy forbids it from some sources: '" + some->text + "' (" + some->location.where() +
                        "); Docker's own rules do not know that");
  }

  const ir::Policy& policy_;
  const Matrix& matrix_;
  int host_;
  std::string name_;
  Diagnostics& diags_;
};

}  // namespace

std::string to_string(Verdict v) {
  switch (v) {
    case Verdict::allowed: return "allowed";
    case Verdict::local: return "local";
    case Verdict::exposed: return "exposed";
    case Verdict::kept_local: return "kept-local";
    case Verdict::not_published: return "not-published";
    case Verdict::host_network: return "host-network";
  }
  return "?";
}

std::vector<PortReport> audit_compose(const ir::Policy& policy, const Matrix& matrix, int host,
                                      const ComposeFile& file, Diagnostics& diags) {
  std::vector<PortReport> rows;
  if (!file.readable) return rows;
  const auto& h = policy.hosts[static_cast<std::size_t>(host)];
  if (!h.docker) {
    auto& d = diags.warning(code::kNotDocker, file.services_key,
                            h.name + " does not declare 'docker' in the policy: netpol writes no Docker-aware ufw rules "
                                     "for it, so every port this file publishes bypasses its firewall");
    d.hints.push_back("declare it in " + h.name + "'s block in the policy: { docker \"FILE\" }");
  }
  Auditor auditor(policy, matrix, host, diags);
  for (const auto& p : file.published) rows.push_back(auditor.published(p));
  for (const auto& p : file.exposed) rows.push_back(auditor.exposed(p));
  for (const auto& s : file.host_network) rows.push_back(auditor.host_network(s));
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.span.begin < b.span.begin; });
  return rows;
}

}  // namespace netpol::compose
