#pragma once
// `netpolc npm apply` without the network: read and check out/npm/, compare it with what a live
// NPM holds, and decide the API calls, in formats.md 3.5's safe order. Pure functions, so the
// decisions are unit-tested; npm_apply.cpp only talks HTTP and runs the plan.
//
// What netpol manages (docs/targets/npm.md):
//   - access lists whose name starts with "netpol-" (the names it writes; the prefix is reserved);
//   - proxy hosts whose `meta` holds a "netpol" object (written with every host it creates).
// Everything else is left alone; a published name held by an object netpol does not manage is a
// conflict, and then nothing at all is applied.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace netpol::npm {

using json = nlohmann::json;

struct DesiredList {
  std::string name;
  json body;  // the POST body, as in access-lists.json
};

struct DesiredHost {
  std::vector<std::string> domains;  // domain_names
  std::string access_list;           // meta.netpol.access_list
  bool tls = false;                  // ssl_forced: needs a certificate
  json body;                         // as in proxy-hosts.json (no access_list_id, no certificate_id)
};

struct Desired {
  std::vector<DesiredList> lists;
  std::vector<DesiredHost> hosts;
};

// Checks both files as netpolc wrote them: known keys only, every value through the
// validators of npm_values.h (a hand-edited file cannot smuggle nginx directives through).
// On failure returns nothing and appends one message per problem.
std::optional<Desired> read_desired(const json& access_lists, const json& proxy_hosts, std::vector<std::string>& errors);

// What NPM holds, as its API returns it.
struct State {
  json access_lists = json::array();       // GET /api/nginx/access-lists?expand=items,clients
  json proxy_hosts = json::array();        // GET /api/nginx/proxy-hosts
  json certificates = json::array();       // GET /api/nginx/certificates
  json redirection_hosts = json::array();  // GET /api/nginx/redirection-hosts
  json dead_hosts = json::array();         // GET /api/nginx/dead-hosts
};

enum class Step { create_list, update_list, create_host, update_host, delete_host, delete_list };

struct Action {
  Step step = Step::create_list;
  std::string name;                  // the list's name, or the host's first domain
  long id = 0;                       // the existing object's id (update, delete)
  json body;                         // create and update; a host's access_list_id is set when run
  std::string access_list;           // hosts: the list whose id goes into access_list_id
  std::vector<std::string> changes;  // update: the fields that differ
  std::string detail;                // shown in the plan
};

struct Plan {
  std::vector<Action> actions;       // access lists, then hosts, then deletions (hosts, then lists)
  int unchanged = 0;
  int unmanaged_hosts = 0;
  int unmanaged_lists = 0;
  std::vector<std::string> notes;    // warnings worth reading; nothing blocks
  std::vector<std::string> errors;   // conflicts: apply nothing
};

Plan make_plan(const Desired& desired, const State& state);

// "create access list netpol-lan (5 clients)", "update proxy host x.home.arpa (#3): forward_port"
std::string describe(const Action& action);

// Which NPM certificate covers `name`: equal (case-insensitive), or "*.parent" for a name one
// label below "parent".
bool certificate_covers(const std::string& certificate_domain, const std::string& name);

// The text with control characters and anything non-ASCII shown as '?', at most 120 characters:
// for echoing file or server values in messages.
std::string printable(const std::string& text);

}  // namespace netpol::npm
