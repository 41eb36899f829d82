#include "npm_apply.h"

#include <ostream>

namespace netpol {

int npm_apply(const NpmApplyOptions&, std::ostream&, std::ostream& err) {  // being written (issue 4)
  err << "netpolc: error: npm apply is not available yet\n";
  return 2;
}

}  // namespace netpol
