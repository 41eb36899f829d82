#pragma once
// Helpers for the compose tests: a small policy with a Docker host, and compose text read from memory.
#include <memory>
#include <string>
#include <vector>

#include "compose_audit.h"
#include "compose_reader.h"
#include "test_support.h"

namespace netpol::compose::testing {

// app runs Docker in the DMZ; lan reaches web and udp/5000-5010, proxy reaches tcp/3000;
// postgres is kept local by a `never any`, tcp/9000 from the internet by another `never`.
inline const char* kPolicy = R"(zone lan { bridge vmbr0 }
zone dmz { bridge vmbr1 }
zone internet
address lan 198.18.1.0/24
address dmz 198.18.2.0/24
address internet 0.0.0.0/0
host app in dmz { vmid 100  docker "app.yml" }
address app 198.18.2.10
host proxy in dmz
address proxy 198.18.2.11
service web tcp/8080
service postgres tcp/5432
never any -> app : postgres
never internet -> app : tcp/9000
allow lan -> app : web, udp/5000-5010
allow proxy -> app : tcp/3000
)";

struct Read {
  SourceSet sources;
  Diagnostics diags;
  ComposeFile file;
};

inline std::unique_ptr<Read> read_text(const std::string& yaml) {
  auto r = std::make_unique<Read>();
  int id = r->sources.add("app.yml", "app.yml", yaml);
  r->file = read_compose(r->sources, id, r->diags);
  return r;
}

// "E901@4:9" for each diagnostic, in file order.
inline std::vector<std::string> codes(const SourceSet& sources, const Diagnostics& diags) {
  std::vector<std::string> out;
  for (const auto& d : diags.sorted()) {
    auto lc = sources.file(d.span.file).position(d.span.begin);
    out.push_back(d.code + "@" + std::to_string(lc.line) + ":" + std::to_string(lc.column));
  }
  return out;
}

}  // namespace netpol::compose::testing
