#pragma once
// Writes a set of files as one directory, atomically: everything goes into a
// fresh temporary directory beside the target, and only when every file is on
// disk is it swapped into place (renameat2 RENAME_EXCHANGE). On any failure the
// target directory is left exactly as it was.
#include <string>

#include "output_set.h"

namespace netpol {

// Returns "" on success, else why it failed (nothing changed).
std::string write_output_dir(const std::string& dir, const OutputSet& files);

}  // namespace netpol
