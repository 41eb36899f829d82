#include "pipeline.h"

#include "invariants.h"
#include "manifest.h"
#include "parser.h"
#include "resolve.h"
#include "sha256.h"
#include "targets.h"

namespace netpol {

std::unique_ptr<Compilation> check_policy(const std::string& path, FileReader& reader) {
  auto c = std::make_unique<Compilation>();
  auto ast = parse_policy(path, reader, c->sources, c->diags);
  if (c->diags.has_errors()) return c;
  c->policy = resolve(ast, c->sources, c->diags);
  if (c->diags.has_errors()) return c;

  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < c->sources.size(); ++i) {
    const auto& f = c->sources.file(i);
    c->policy.sources.push_back({f.relative_path, sha256_hex(f.text)});
    files.emplace_back(f.relative_path, f.text);
  }
  c->policy.entry = c->sources.file(0).relative_path;
  c->policy.policy_sha256 = policy_hash(files);

  Matrix matrix(c->policy);
  c->policy.flows = matrix.flows();
  check_invariants(c->policy, matrix, c->diags);
  check_vpn_routes(c->policy, c->diags);
  c->checked = true;
  return c;
}

OutputSet build_outputs(Compilation& c, const TargetOptions& options) {
  OutputSet out;
  if (!c.ok()) return out;
  emit_all_targets(c.policy, options, out, c.diags);
  if (c.diags.has_errors()) return {};
  out["manifest.json"] = manifest_json(c.policy, out);
  return out;
}

}  // namespace netpol
