#pragma once
// What every netverify run shares: probe settings and where the reports go.
#include <string>
#include <vector>

#include "ir.h"
#include "probe.h"

namespace netpol::live {

struct RunOptions {
  std::string policy;                       // the entry .npol file
  std::vector<ir::ServicePort> extra_ports; // --ports
  ProberOptions prober;                     // --rate, --timeout, --max-time
  std::string json, junit, metrics;         // report files ("" = none)
  std::string colour = "auto";              // auto | always | never
  bool quiet = false;
};

}  // namespace netpol::live
