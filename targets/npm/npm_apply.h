#pragma once
// `netpolc npm apply`: brings a live Nginx Proxy Manager in line with out/npm/,
// touching only what netpol manages.
#include <iosfwd>
#include <string>

namespace netpol {

struct NpmApplyOptions {
  std::string url;            // e.g. http://198.18.10.10:81
  std::string user;           // the NPM admin's e-mail
  std::string password_file;  // read, never echoed
  std::string dir;            // the compiled out/npm folder
  bool dry_run = false;       // print the plan, change nothing
};

// Exit code: 0 done (or nothing to do), 2 usage, I/O or API errors.
int npm_apply(const NpmApplyOptions& options, std::ostream& out, std::ostream& err);

}  // namespace netpol
