#include "npm_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "npm_values.h"

namespace netpol::npm {

namespace {

const std::set<std::string> kListKeys = {"name", "satisfy_any", "pass_auth", "items", "clients"};
const std::vector<std::string> kHostBools = {"ssl_forced",      "hsts_enabled",    "hsts_subdomains",
                                             "http2_support",   "block_exploits",  "caching_enabled",
                                             "allow_websocket_upgrade", "enabled"};
const std::set<std::string> kHostKeys = {"domain_names", "forward_scheme", "forward_host", "forward_port",
                                         "ssl_forced",   "hsts_enabled",   "hsts_subdomains", "http2_support",
                                         "block_exploits", "caching_enabled", "allow_websocket_upgrade", "enabled",
                                         "locations",    "meta"};

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// NPM answers booleans as true/false, older versions as 0/1.
bool truthy(const json& j) {
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number()) return j.get<double>() != 0;
  if (j.is_string()) return j.get<std::string>() == "1" || j.get<std::string>() == "true";
  return false;
}

std::optional<long> integer(const json& j) {
  if (j.is_number_integer()) return j.get<long>();
  if (j.is_number_unsigned()) return static_cast<long>(j.get<unsigned long>());
  if (j.is_string()) {  // coerceTypes can hand a number back as a string
    const auto& s = j.get_ref<const std::string&>();
    if (!s.empty() && s.size() < 12 && s.find_first_not_of("0123456789") == std::string::npos) return std::stol(s);
  }
  return std::nullopt;
}

long integer_or(const json& object, const char* key, long fallback) {
  if (!object.is_object() || !object.contains(key)) return fallback;
  return integer(object.at(key)).value_or(fallback);
}

std::string string_or(const json& object, const char* key) {
  if (object.is_object() && object.contains(key) && object.at(key).is_string()) return object.at(key).get<std::string>();
  return "";
}

std::vector<std::string> domains_of(const json& host) {
  std::vector<std::string> out;
  if (host.is_object() && host.contains("domain_names") && host.at("domain_names").is_array())
    for (const auto& d : host.at("domain_names"))
      if (d.is_string()) out.push_back(lower(d.get<std::string>()));
  return out;
}

bool is_managed_host(const json& host) {
  return host.is_object() && host.contains("meta") && host.at("meta").is_object() && host.at("meta").contains("netpol") &&
         host.at("meta").at("netpol").is_object();
}

bool is_managed_list(const json& list) { return string_or(list, "name").starts_with(kAccessListPrefix); }

std::string where(const std::string& file, std::size_t index, const std::string& what) {
  return file + ": item " + std::to_string(index + 1) + (what.empty() ? "" : " (" + printable(what) + ")") + ": ";
}

void check_list(const json& item, std::size_t i, std::vector<std::string>& errors, std::optional<DesiredList>& out) {
  const std::string file = "access-lists.json";
  if (!item.is_object()) {
    errors.push_back(where(file, i, "") + "not an object");
    return;
  }
  auto name = string_or(item, "name");
  auto at = where(file, i, name);
  std::size_t before = errors.size();
  for (const auto& [key, value] : item.items())
    if (!kListKeys.count(key)) errors.push_back(at + "unexpected key '" + printable(key) + "'");
  if (!valid_access_list_name(name))
    errors.push_back(at + "name '" + printable(name) + "' is not a netpol access-list name");
  for (const char* key : {"satisfy_any", "pass_auth"})
    if (!item.contains(key) || !item.at(key).is_boolean()) errors.push_back(at + "'" + key + "' must be true or false");
  if (!item.contains("items") || !item.at("items").is_array() || !item.at("items").empty())
    errors.push_back(at + "'items' must be empty: netpol writes no basic-auth users");
  if (!item.contains("clients") || !item.at("clients").is_array() || item.at("clients").empty()) {
    errors.push_back(at + "'clients' must be a non-empty list");
  } else {
    for (const auto& c : item.at("clients")) {
      bool shape = c.is_object() && c.size() == 2 && c.contains("directive") && c.contains("address") &&
                   c.at("directive").is_string() && c.at("address").is_string();
      if (!shape) {
        errors.push_back(at + "a client must be {\"directive\", \"address\"}");
        continue;
      }
      auto directive = c.at("directive").get<std::string>();
      auto address = c.at("address").get<std::string>();
      if (directive != "allow" && directive != "deny")
        errors.push_back(at + "directive '" + printable(directive) + "' is not allow or deny");
      if (address != "all" && !valid_client_address(address))
        errors.push_back(at + "address '" + printable(address) + "' is not a canonical network NPM accepts");
    }
  }
  if (errors.size() == before) out = DesiredList{name, item};
}

void check_host(const json& item, std::size_t i, std::vector<std::string>& errors, std::optional<DesiredHost>& out) {
  const std::string file = "proxy-hosts.json";
  if (!item.is_object()) {
    errors.push_back(where(file, i, "") + "not an object");
    return;
  }
  auto first = domains_of(item);
  auto at = where(file, i, first.empty() ? "" : first.front());
  std::size_t before = errors.size();
  for (const auto& [key, value] : item.items()) {
    if (kHostKeys.count(key)) continue;
    if (key == "advanced_config")
      errors.push_back(at + "'advanced_config' is refused: it is raw nginx configuration");
    else if (key == "access_list_id" || key == "certificate_id")
      errors.push_back(at + "'" + key + "' is refused: npm apply resolves it on the live NPM");
    else
      errors.push_back(at + "unexpected key '" + printable(key) + "'");
  }
  DesiredHost host;
  const auto* names = item.contains("domain_names") ? &item.at("domain_names") : nullptr;
  if (!names || !names->is_array() || names->empty() || names->size() > 100) {
    errors.push_back(at + "'domain_names' must list 1 to 100 names");
  } else {
    for (const auto& d : *names) {
      if (!d.is_string() || !valid_domain(d.get<std::string>()))
        errors.push_back(at + "domain name '" + printable(d.is_string() ? d.get<std::string>() : d.dump()) +
                         "' is not a lower-case DNS name");
      else
        host.domains.push_back(d.get<std::string>());
    }
  }
  auto scheme = string_or(item, "forward_scheme");
  if (scheme != "http" && scheme != "https") errors.push_back(at + "'forward_scheme' must be http or https");
  auto forward_host = string_or(item, "forward_host");
  if (!valid_forward_host(forward_host))
    errors.push_back(at + "forward_host '" + printable(forward_host) + "' is not an IPv4 address or host name");
  auto port = item.contains("forward_port") && item.at("forward_port").is_number_integer()
                  ? item.at("forward_port").get<long>()
                  : 0;
  if (port < 1 || port > 65535) errors.push_back(at + "'forward_port' must be an integer 1-65535");
  for (const auto& key : kHostBools)
    if (!item.contains(key) || !item.at(key).is_boolean()) errors.push_back(at + "'" + key + "' must be true or false");
  if (item.contains("locations")) {
    const auto& locations = item.at("locations");
    if (!locations.is_array()) {
      errors.push_back(at + "'locations' must be a list");
    } else {
      for (const auto& l : locations) {
        auto path = string_or(l, "path");
        errors.push_back(at + "custom location '" + printable(path) + "' is refused" +
                         (valid_location_path(path) ? "" : " (and its path is unsafe)") +
                         ": netpol publishes whole names only");
      }
    }
  }
  if (item.contains("meta") && item.at("meta").is_object() && item.at("meta").size() == 1 &&
      item.at("meta").contains("netpol") && item.at("meta").at("netpol").is_object()) {
    const auto& mark = item.at("meta").at("netpol");
    host.access_list = string_or(mark, "access_list");
    if (mark.size() != 1 || !valid_access_list_name(host.access_list))
      errors.push_back(at + "meta.netpol must be {\"access_list\": NAME} with a netpol access-list name");
  } else {
    errors.push_back(at + "'meta' must be {\"netpol\": {\"access_list\": NAME}}");
  }
  host.tls = item.contains("ssl_forced") && truthy(item.at("ssl_forced"));
  host.body = item;
  if (errors.size() == before) out = std::move(host);
}

// The id of the certificate a TLS host gets: the one it has if that still covers every name,
// else the covering certificate that expires last (then the lowest id).
std::optional<long> choose_certificate(const DesiredHost& host, const json& certificates, long current) {
  auto covers_all = [&](const json& cert) {
    auto names = domains_of(cert);
    return std::all_of(host.domains.begin(), host.domains.end(), [&](const std::string& d) {
      return std::any_of(names.begin(), names.end(), [&](const std::string& c) { return certificate_covers(c, d); });
    });
  };
  std::optional<long> best;
  std::string best_expiry;
  for (const auto& cert : certificates) {
    auto id = integer_or(cert, "id", 0);
    if (id <= 0 || !covers_all(cert)) continue;
    if (id == current) return id;
    auto expiry = string_or(cert, "expires_on");
    if (!best || expiry > best_expiry || (expiry == best_expiry && id < *best)) {
      best = id;
      best_expiry = expiry;
    }
  }
  return best;
}

std::vector<std::pair<std::string, std::string>> clients_of(const json& list) {
  std::vector<std::pair<std::string, std::string>> out;
  if (list.is_object() && list.contains("clients") && list.at("clients").is_array())
    for (const auto& c : list.at("clients")) out.emplace_back(string_or(c, "directive"), string_or(c, "address"));
  return out;
}

std::string count(std::size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string printable(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= 120) {
      out += "...";
      break;
    }
    out += (c >= 0x20 && c <= 0x7e) ? c : '?';
  }
  return out;
}

bool certificate_covers(const std::string& certificate_domain, const std::string& name) {
  auto cert = lower(certificate_domain);
  auto n = lower(name);
  if (cert == n) return true;
  if (!cert.starts_with("*.") || n.starts_with("*.")) return false;
  auto dot = n.find('.');
  return dot != std::string::npos && dot > 0 && n.substr(dot) == cert.substr(1);
}

std::optional<Desired> read_desired(const json& access_lists, const json& proxy_hosts, std::vector<std::string>& errors) {
  std::size_t before = errors.size();
  Desired desired;
  if (!access_lists.is_array()) errors.push_back("access-lists.json: not a JSON array");
  if (!proxy_hosts.is_array()) errors.push_back("proxy-hosts.json: not a JSON array");
  if (errors.size() != before) return std::nullopt;

  std::set<std::string> list_names;
  for (std::size_t i = 0; i < access_lists.size(); ++i) {
    std::optional<DesiredList> list;
    check_list(access_lists[i], i, errors, list);
    if (!list) continue;
    if (!list_names.insert(list->name).second)
      errors.push_back(where("access-lists.json", i, list->name) + "the name is given twice");
    desired.lists.push_back(std::move(*list));
  }
  std::set<std::string> domains;
  for (std::size_t i = 0; i < proxy_hosts.size(); ++i) {
    std::optional<DesiredHost> host;
    check_host(proxy_hosts[i], i, errors, host);
    if (!host) continue;
    auto at = where("proxy-hosts.json", i, host->domains.front());
    for (const auto& d : host->domains)
      if (!domains.insert(lower(d)).second) errors.push_back(at + "the name " + d + " is published twice");
    if (!list_names.count(host->access_list))
      errors.push_back(at + "access list '" + host->access_list + "' is not in access-lists.json");
    desired.hosts.push_back(std::move(*host));
  }
  if (errors.size() != before) return std::nullopt;
  return desired;
}

Plan make_plan(const Desired& desired, const State& state) {
  Plan plan;

  // ---- access lists ----------------------------------------------------------------------
  std::map<std::string, const json*> existing_lists;  // managed, by name
  for (const auto& list : state.access_lists) {
    if (!is_managed_list(list)) {
      ++plan.unmanaged_lists;
      continue;
    }
    auto name = string_or(list, "name");
    if (integer_or(list, "id", 0) <= 0) {
      plan.errors.push_back("access list '" + printable(name) + "' in NPM has no usable id");
    } else if (existing_lists.count(name)) {
      plan.errors.push_back("NPM holds two access lists named '" + printable(name) + "': delete one by hand");
    }
    existing_lists[name] = &list;
  }
  std::map<std::string, long> list_ids;  // known ids of the desired lists (0 = created when run)
  std::set<std::string> desired_list_names;
  for (const auto& want : desired.lists) {
    desired_list_names.insert(want.name);
    const auto& body = want.body;
    auto n_clients = body.at("clients").size();
    auto it = existing_lists.find(want.name);
    if (it == existing_lists.end()) {
      plan.actions.push_back({Step::create_list, want.name, 0, body, "", {}, count(n_clients, "client", "clients")});
      list_ids[want.name] = 0;
      continue;
    }
    const json& have = *it->second;
    long id = integer_or(have, "id", 0);
    list_ids[want.name] = id;
    std::vector<std::string> changes;
    for (const char* key : {"satisfy_any", "pass_auth"})
      if (!have.contains(key) || truthy(have.at(key)) != body.at(key).get<bool>()) changes.push_back(key);
    if (have.contains("items") && have.at("items").is_array() && !have.at("items").empty()) changes.push_back("items");
    if (clients_of(have) != clients_of(body)) changes.push_back("clients");
    if (changes.empty()) {
      ++plan.unchanged;
    } else {
      plan.actions.push_back({Step::update_list, want.name, id, body, "", changes, count(n_clients, "client", "clients")});
    }
  }

  // ---- proxy hosts -----------------------------------------------------------------------
  std::set<long> matched_hosts;
  std::vector<Action> host_actions;
  for (const auto& want : desired.hosts) {
    const auto& first = want.domains.front();
    std::vector<const json*> holders;
    for (const auto& have : state.proxy_hosts) {
      auto names = domains_of(have);
      bool shares = std::any_of(want.domains.begin(), want.domains.end(), [&](const std::string& d) {
        return std::find(names.begin(), names.end(), lower(d)) != names.end();
      });
      if (shares) holders.push_back(&have);
    }
    for (const auto* others : {&state.redirection_hosts, &state.dead_hosts}) {
      const char* kind = others == &state.redirection_hosts ? "redirection host" : "404 host";
      for (const auto& other : *others)
        for (const auto& d : domains_of(other))
          for (const auto& w : want.domains)
            if (d == lower(w))
              plan.errors.push_back(w + " is already used by NPM " + kind + " #" +
                                    std::to_string(integer_or(other, "id", 0)) + ", which netpol does not manage");
    }
    if (holders.size() > 1) {
      plan.errors.push_back("the names of " + first + " are spread over " + std::to_string(holders.size()) +
                            " NPM proxy hosts: merge or delete them by hand");
      continue;
    }
    const json* have = holders.empty() ? nullptr : holders.front();
    long id = have ? integer_or(*have, "id", 0) : 0;
    if (have && !is_managed_host(*have)) {
      plan.errors.push_back(first + " is already used by NPM proxy host #" + std::to_string(id) +
                            ", which netpol does not manage: delete it in NPM (or publish another name)");
      continue;
    }
    if (have && id <= 0) {
      plan.errors.push_back("proxy host " + first + " in NPM has no usable id");
      continue;
    }
    if (have) matched_hosts.insert(id);

    long certificate = 0;
    if (want.tls) {
      auto chosen = choose_certificate(want, state.certificates, have ? integer_or(*have, "certificate_id", 0) : 0);
      if (!chosen) {
        plan.errors.push_back("no certificate in NPM covers " + first +
                              ": add one (SSL Certificates) for this name or a wildcard, then run again");
        continue;
      }
      certificate = *chosen;
    }
    json body = want.body;
    body["certificate_id"] = certificate;
    long list_id = list_ids.count(want.access_list) ? list_ids.at(want.access_list) : 0;
    std::string detail = "-> " + string_or(body, "forward_scheme") + "://" + string_or(body, "forward_host") + ":" +
                         std::to_string(body.at("forward_port").get<long>()) + ", " + want.access_list +
                         (want.tls ? ", certificate #" + std::to_string(certificate) : ", no TLS");
    if (!have) {
      host_actions.push_back({Step::create_host, first, 0, body, want.access_list, {}, detail});
      continue;
    }

    std::vector<std::string> changes;
    auto have_names = domains_of(*have);
    std::vector<std::string> want_names;
    for (const auto& d : want.domains) want_names.push_back(lower(d));
    std::sort(have_names.begin(), have_names.end());
    std::sort(want_names.begin(), want_names.end());
    if (have_names != want_names) changes.push_back("domain_names");
    for (const char* key : {"forward_scheme", "forward_host"})
      if (string_or(*have, key) != string_or(body, key)) changes.push_back(key);
    if (integer_or(*have, "forward_port", 0) != body.at("forward_port").get<long>()) changes.push_back("forward_port");
    if (integer_or(*have, "certificate_id", 0) != certificate) changes.push_back("certificate_id");
    if (list_id == 0 || integer_or(*have, "access_list_id", 0) != list_id) changes.push_back("access_list_id");
    for (const auto& key : kHostBools)
      if (!have->contains(key) || truthy(have->at(key)) != body.at(key).get<bool>()) changes.push_back(key);
    if (have->contains("locations") && have->at("locations").is_array() && !have->at("locations").empty())
      changes.push_back("locations");
    if (have->at("meta").at("netpol") != body.at("meta").at("netpol")) changes.push_back("meta.netpol");
    const auto& meta = have->at("meta");
    if (meta.contains("nginx_online") && meta.at("nginx_online").is_boolean() && !meta.at("nginx_online").get<bool>())
      changes.push_back("nginx_online");
    if (!string_or(*have, "advanced_config").empty())
      plan.notes.push_back("warning: proxy host " + first + " (#" + std::to_string(id) +
                           ") has advanced_config written by hand; netpol leaves it, but it can override the "
                           "access list: review it in NPM");
    if (changes.empty()) {
      ++plan.unchanged;
      continue;
    }
    // NPM replaces `meta` as a whole on update: keep what it holds, refresh the netpol mark.
    json merged = meta;
    merged.erase("nginx_online");
    merged.erase("nginx_err");
    merged["netpol"] = body.at("meta").at("netpol");
    body["meta"] = merged;
    host_actions.push_back({Step::update_host, first, id, body, want.access_list, changes, detail});
  }
  plan.actions.insert(plan.actions.end(), host_actions.begin(), host_actions.end());

  // ---- deletions, last: hosts, then the lists they used ---------------------------------
  std::map<long, int> unmanaged_uses;  // access list id -> hosts netpol leaves alone that use it
  for (const auto& have : state.proxy_hosts) {
    if (is_managed_host(have)) {
      long id = integer_or(have, "id", 0);
      if (id > 0 && !matched_hosts.count(id)) {
        auto names = domains_of(have);
        plan.actions.push_back({Step::delete_host, names.empty() ? "?" : printable(names.front()), id, nullptr, "", {},
                                "no longer published"});
      }
    } else {
      ++plan.unmanaged_hosts;
      if (long list = integer_or(have, "access_list_id", 0); list > 0) ++unmanaged_uses[list];
    }
  }
  for (const auto& [name, list] : existing_lists) {
    if (desired_list_names.count(name)) continue;
    long id = integer_or(*list, "id", 0);
    if (id <= 0) continue;
    if (unmanaged_uses.count(id)) {
      plan.notes.push_back("kept access list " + printable(name) + " (#" + std::to_string(id) + "): " +
                           count(static_cast<std::size_t>(unmanaged_uses.at(id)), "proxy host", "proxy hosts") +
                           " that netpol does not manage use it");
      continue;
    }
    plan.actions.push_back({Step::delete_list, printable(name), id, nullptr, "", {}, "no longer used by the policy"});
  }
  return plan;
}

std::string describe(const Action& a) {
  auto id = " (#" + std::to_string(a.id) + ")";
  std::string changes;
  for (const auto& c : a.changes) changes += (changes.empty() ? ": " : ", ") + c;
  switch (a.step) {
    case Step::create_list: return "create access list " + a.name + " (" + a.detail + ")";
    case Step::update_list: return "update access list " + a.name + id + changes;
    case Step::create_host: return "create proxy host " + a.name + " " + a.detail;
    case Step::update_host: return "update proxy host " + a.name + id + changes;
    case Step::delete_host: return "delete proxy host " + a.name + id + ": " + a.detail;
    case Step::delete_list: return "delete access list " + a.name + id + ": " + a.detail;
  }
  return "";
}

}  // namespace netpol::npm
