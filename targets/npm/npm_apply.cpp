// `netpolc npm apply`: log in, read NPM's state, plan (npm_plan.h), print the plan, run it.
// HTTP is cpp-httplib (Debian's libcpp-httplib, built with OpenSSL: https:// URLs work and
// verify the server's certificate against the system's CAs).
#include "npm_apply.h"

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <regex>
#include <sstream>

#include "npm_plan.h"

namespace netpol {

namespace {

using npm::json;

constexpr int kExitOk = 0;
constexpr int kExitError = 2;

struct Url {
  std::string origin;  // "http://host:port"
  std::string prefix;  // "" or "/some/path"
};

std::optional<Url> parse_url(const std::string& text) {
  // scheme://host[:port][/prefix]: no user info (credentials never go in a URL), query or fragment.
  static const std::regex re(R"(^(https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?((/[A-Za-z0-9._~-]+)*)/?$)");
  std::smatch m;
  if (!std::regex_match(text, m, re)) return std::nullopt;
  if (m[3].matched) {
    auto port = std::stol(m[3].str().substr(1));
    if (port < 1 || port > 65535) return std::nullopt;
  }
  return Url{m[1].str() + "://" + m[2].str() + m[3].str(), m[4].str()};
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The password is the file's first line; it is never printed, and any server text that
// happens to contain it is shown with it blanked out.
class Secret {
 public:
  explicit Secret(std::string value) : value_(std::move(value)) {}
  const std::string& value() const { return value_; }
  std::string redact(std::string text) const {
    if (value_.empty()) return text;
    for (auto at = text.find(value_); at != std::string::npos; at = text.find(value_, at))
      text.replace(at, value_.size(), "[redacted]");
    return text;
  }

 private:
  std::string value_;
};

struct Reply {
  int status = 0;  // 0: no HTTP answer
  json body;
  std::string error;  // why the call failed, ready to print
};

class Api {
 public:
  Api(const Url& url, const Secret& secret) : client_(url.origin), prefix_(url.prefix), secret_(secret) {
    client_.set_connection_timeout(10, 0);
    client_.set_read_timeout(60, 0);  // every change makes NPM re-render and reload nginx
    client_.set_write_timeout(30, 0);
    client_.enable_server_certificate_verification(true);
  }

  void set_token(std::string token) { token_ = std::move(token); }

  Reply call(const std::string& method, const std::string& path, const json* body = nullptr) {
    httplib::Headers headers = {{"Accept", "application/json"}};
    if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
    auto full = prefix_ + "/api" + path;
    auto payload = body ? body->dump() : std::string();
    httplib::Result res = method == "GET"    ? client_.Get(full, headers)
                          : method == "POST" ? client_.Post(full, headers, payload, "application/json")
                          : method == "PUT"  ? client_.Put(full, headers, payload, "application/json")
                                             : client_.Delete(full, headers);
    Reply reply;
    if (!res) {
      reply.error = method + " " + full + ": no answer (" + httplib::to_string(res.error()) + ")";
      return reply;
    }
    reply.status = res->status;
    reply.body = json::parse(res->body, nullptr, false);
    if (res->status >= 200 && res->status < 300) {
      if (reply.body.is_discarded()) reply.error = method + " " + full + ": the answer is not JSON";
      return reply;
    }
    std::string message;
    if (reply.body.is_object() && reply.body.contains("error") && reply.body.at("error").is_object() &&
        reply.body.at("error").contains("message") && reply.body.at("error").at("message").is_string())
      message = reply.body.at("error").at("message").get<std::string>();
    else
      message = res->body.substr(0, 200);
    reply.error = method + " " + full + ": HTTP " + std::to_string(res->status) + ": " + npm::printable(secret_.redact(message));
    return reply;
  }

 private:
  httplib::Client client_;
  std::string prefix_;
  const Secret& secret_;
  std::string token_;
};

std::string count(std::size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

int npm_apply(const NpmApplyOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "netpolc: error: " << message << "\n";
    return kExitError;
  };

  // ---- the compiled files ----------------------------------------------------------------
  std::filesystem::path dir(options.dir);
  json files[2];
  const char* names[2] = {"access-lists.json", "proxy-hosts.json"};
  for (int i = 0; i < 2; ++i) {
    auto text = read_file(dir / names[i]);
    if (!text) return fail("cannot read " + (dir / names[i]).string() + " (give the compiled out/npm folder)");
    files[i] = json::parse(*text, nullptr, false);
    if (files[i].is_discarded()) return fail((dir / names[i]).string() + " is not valid JSON");
  }
  std::vector<std::string> problems;
  auto desired = npm::read_desired(files[0], files[1], problems);
  if (!desired) {
    for (const auto& p : problems) err << "netpolc: error: " << options.dir << "/" << p << "\n";
    return fail("refusing to apply " + options.dir + ": " + count(problems.size(), "problem", "problems"));
  }

  // ---- where and who ---------------------------------------------------------------------
  auto url = parse_url(options.url);
  if (!url) return fail("--url must be http://HOST[:PORT][/PATH] or https://..., without user, query or fragment");
  auto password_text = read_file(options.password_file);
  if (!password_text) return fail("cannot read the password file " + options.password_file);
  std::string password = password_text->substr(0, password_text->find('\n'));
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) return fail("the password file " + options.password_file + " has an empty first line");
  Secret secret(password);
  Api api(*url, secret);

  out << "npm apply: " << url->origin << url->prefix << " as " << npm::printable(options.user)
      << (options.dry_run ? " (dry run: nothing will change)" : "") << "\n";

  json login = {{"identity", options.user}, {"secret", secret.value()}};
  auto token = api.call("POST", "/tokens", &login);
  login.clear();
  if (!token.error.empty()) return fail("login failed: " + token.error);
  if (!token.body.is_object() || !token.body.contains("token") || !token.body.at("token").is_string()) {
    if (token.body.is_object() && token.body.contains("requires_2fa"))
      return fail("login needs a second factor (2FA): use an NPM user without 2FA for netpol");
    return fail("login failed: NPM's answer holds no token");
  }
  api.set_token(token.body.at("token").get<std::string>());

  // ---- what NPM holds --------------------------------------------------------------------
  npm::State state;
  std::pair<const char*, json*> reads[] = {
      {"/nginx/access-lists?expand=items,clients", &state.access_lists},
      {"/nginx/proxy-hosts", &state.proxy_hosts},
      {"/nginx/certificates", &state.certificates},
      {"/nginx/redirection-hosts", &state.redirection_hosts},
      {"/nginx/dead-hosts", &state.dead_hosts},
  };
  for (auto& [path, target] : reads) {
    auto reply = api.call("GET", path);
    if (!reply.error.empty()) return fail(reply.error);
    if (!reply.body.is_array()) return fail(std::string("GET ") + path + ": the answer is not a list");
    *target = std::move(reply.body);
  }

  // ---- the plan --------------------------------------------------------------------------
  auto plan = npm::make_plan(*desired, state);
  for (const auto& note : plan.notes) out << note << "\n";
  if (!plan.errors.empty()) {
    for (const auto& e : plan.errors) err << "netpolc: error: " << npm::printable(e) << "\n";
    return fail("nothing applied: " + count(plan.errors.size(), "conflict", "conflicts") + " with what NPM holds");
  }
  std::size_t creates = 0, updates = 0, deletes = 0;
  for (const auto& a : plan.actions) {
    out << "plan: " << npm::describe(a) << "\n";
    switch (a.step) {
      case npm::Step::create_list:
      case npm::Step::create_host: ++creates; break;
      case npm::Step::update_list:
      case npm::Step::update_host: ++updates; break;
      default: ++deletes;
    }
  }
  out << "plan: " << creates << " to create, " << updates << " to update, " << deletes << " to delete, "
      << plan.unchanged << " unchanged; left alone: " << count(static_cast<std::size_t>(plan.unmanaged_hosts), "proxy host", "proxy hosts")
      << " and " << count(static_cast<std::size_t>(plan.unmanaged_lists), "access list", "access lists")
      << " netpol does not manage\n";
  if (options.dry_run) {
    out << "dry run: nothing changed\n";
    return kExitOk;
  }
  if (plan.actions.empty()) {
    out << "nothing to do\n";
    return kExitOk;
  }

  // ---- run it, in order; stop at the first failure ---------------------------------------
  std::map<std::string, long> list_ids;
  for (const auto& list : state.access_lists)
    if (list.is_object() && list.contains("name") && list.at("name").is_string() && list.contains("id") &&
        list.at("id").is_number_integer())
      list_ids[list.at("name").get<std::string>()] = list.at("id").get<long>();
  std::size_t done = 0;
  auto stopped = [&](const std::string& message) {
    out << "stopped after " << done << " of " << plan.actions.size() << " changes\n";
    return fail(message);
  };
  for (const auto& a : plan.actions) {
    Reply reply;
    json body = a.body;
    switch (a.step) {
      case npm::Step::create_list: reply = api.call("POST", "/nginx/access-lists", &body); break;
      case npm::Step::update_list: reply = api.call("PUT", "/nginx/access-lists/" + std::to_string(a.id), &body); break;
      case npm::Step::create_host:
      case npm::Step::update_host: {
        auto it = list_ids.find(a.access_list);
        if (it == list_ids.end()) return stopped("access list " + a.access_list + " has no id in NPM");
        body["access_list_id"] = it->second;
        reply = a.step == npm::Step::create_host ? api.call("POST", "/nginx/proxy-hosts", &body)
                                                 : api.call("PUT", "/nginx/proxy-hosts/" + std::to_string(a.id), &body);
        break;
      }
      case npm::Step::delete_host: reply = api.call("DELETE", "/nginx/proxy-hosts/" + std::to_string(a.id)); break;
      case npm::Step::delete_list: reply = api.call("DELETE", "/nginx/access-lists/" + std::to_string(a.id)); break;
    }
    if (!reply.error.empty()) return stopped(npm::describe(a) + ": " + reply.error);
    if (a.step == npm::Step::create_list) {
      if (!reply.body.is_object() || !reply.body.contains("id") || !reply.body.at("id").is_number_integer())
        return stopped("NPM created access list " + a.name + " but returned no id");
      list_ids[a.name] = reply.body.at("id").get<long>();
    }
    ++done;
    out << "done: " << npm::describe(a) << "\n";
    // NPM saves a host even when nginx refuses its config (formats.md 3.5): check.
    if ((a.step == npm::Step::create_host || a.step == npm::Step::update_host) && reply.body.is_object() &&
        reply.body.contains("meta") && reply.body.at("meta").is_object()) {
      const auto& meta = reply.body.at("meta");
      if (meta.contains("nginx_online") && meta.at("nginx_online").is_boolean() && !meta.at("nginx_online").get<bool>()) {
        std::string why = meta.contains("nginx_err") && meta.at("nginx_err").is_string()
                              ? meta.at("nginx_err").get<std::string>()
                              : "no reason given";
        return stopped("NPM saved " + a.name + " but its nginx refused the configuration: " +
                       npm::printable(secret.redact(why)));
      }
    }
  }
  out << "applied: " << creates << " created, " << updates << " updated, " << deletes << " deleted, " << plan.unchanged
      << " unchanged\n";
  return kExitOk;
}

}  // namespace netpol
