#pragma once
// The pipeline's order, in one place:
//   parse (+includes) -> resolve (names, addresses, topology) -> matrix (first match)
//   -> check (invariants) -> targets (into memory) -> manifest -> write atomically.
// Each stage runs only when the stages before it found no error.
#include <memory>
#include <optional>
#include <string>

#include "diagnostics.h"
#include "file_reader.h"
#include "ir.h"
#include "matrix.h"
#include "output_set.h"
#include "source.h"
#include "target_options.h"

namespace netpol {

struct Compilation {
  SourceSet sources;
  Diagnostics diags;
  ir::Policy policy;
  bool checked = false;  // every check stage ran (and may still have found errors)
  bool ok() const { return checked && !diags.has_errors(); }
};

// parse -> resolve -> matrix -> invariants. The result's policy holds the flows.
std::unique_ptr<Compilation> check_policy(const std::string& path, FileReader& reader);

// Every target's files plus manifest.json, in memory; empty when the policy has errors.
OutputSet build_outputs(Compilation& c, const TargetOptions& options = {});

}  // namespace netpol
