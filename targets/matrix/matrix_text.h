#pragma once
// The resolved matrix as an aligned text table, for people (`netpolc matrix`).
#include <string>

#include "ir.h"

namespace netpol {

std::string matrix_text(const ir::Policy& policy);

}  // namespace netpol
