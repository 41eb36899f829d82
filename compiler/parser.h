#pragma once
// Text -> AST. Reads the entry file and every include, reports every syntax
// error (it recovers at the next statement), include cycles and missing files.
#include <string>
#include <string_view>

#include "ast.h"
#include "diagnostics.h"
#include "file_reader.h"
#include "source.h"

namespace netpol {

inline constexpr int kMaxIncludeDepth = 16;

// `entry_path` is read through `reader`; includes are relative to the including file.
ast::Policy parse_policy(const std::string& entry_path, FileReader& reader, SourceSet& sources,
                         Diagnostics& diags);

// One file's text, includes not followed (they are reported as E501 unless `reader` is given).
ast::Policy parse_text(std::string_view text, const std::string& display_path, SourceSet& sources,
                       Diagnostics& diags);

}  // namespace netpol
