#include "matrix_text.h"

#include <algorithm>
#include <array>
#include <fmt/format.h>

namespace netpol {

std::string matrix_text(const ir::Policy& p) {
  using Row = std::array<std::string, 4>;
  std::vector<Row> rows{{"SOURCE", "DESTINATION", "SERVICE", "RULE"}};
  for (const auto& f : p.flows) {
    const auto& rule = p.rules[static_cast<std::size_t>(f.rule)];
    rows.push_back({p.describe(f.source), p.describe(f.destination),
                    ir::ServicePort{f.proto, f.ports}.str(), rule.location.where() + "  " + rule.text});
  }
  std::array<std::size_t, 3> width{};
  for (const auto& r : rows)
    for (std::size_t i = 0; i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::string out;
  for (const auto& r : rows)
    out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {}\n", r[0], width[0], r[1], width[1], r[2], width[2], r[3]);
  out += fmt::format("{} allowed flow{}; everything else is denied.\n", p.flows.size(), p.flows.size() == 1 ? "" : "s");
  return out;
}

}  // namespace netpol
