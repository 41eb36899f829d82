#include "checked_policy.h"

#include <iostream>

#include "diagnostics.h"
#include "file_reader.h"

namespace netpol::live {

std::unique_ptr<Compilation> load_checked_policy(const std::string& path) {
  DiskFileReader reader;
  auto c = check_policy(path, reader);
  if (c->ok()) return c;
  for (const auto& d : c->diags.sorted()) std::cerr << render(d, c->sources, false);
  return nullptr;
}

}  // namespace netpol::live
