// PassColumns and PassGroupsByInstrument (planner.h): what a pass reads, from its modules.
#include <algorithm>
#include <array>
#include <optional>

#include "plan/planner.h"

namespace intraday {

std::vector<TableColumns> PassColumns(const std::vector<std::unique_ptr<Module>>& modules,
                                      const PassConfig& pass) {
  std::array<std::optional<std::vector<std::string>>, kTableCount> by_table;
  auto add = [&](Table table, const std::string& column) {
    auto& columns = by_table[TableIndex(table)];
    if (!columns) {
      // Every table is read with its ListingId (routing, grouping) and event time (ordering).
      columns = std::vector<std::string>{"ListingId", std::string(SpecOf(table).event_time_column)};
    }
    if (!column.empty() && std::find(columns->begin(), columns->end(), column) == columns->end()) {
      columns->push_back(column);
    }
  };
  for (const auto& module : modules) {
    for (const InputTable& input : module->inputs()) {
      add(input.table, "");
      for (const auto& column : input.columns) add(input.table, column);
    }
  }
  // Dense timelines span each listing's session, which the market states delimit.
  if (pass.timeline == Timeline::kDense) {
    for (const char* column : {"ListingId", "TimestampNanoseconds", "MarketState"})
      add(Table::kMarketState, column);
  }
  std::vector<TableColumns> out;
  for (const auto& spec : AllTables()) {
    if (auto& columns = by_table[TableIndex(spec.table)])
      out.push_back(TableColumns{spec.table, std::move(*columns)});
  }
  return out;
}

bool PassGroupsByInstrument(const std::vector<std::unique_ptr<Module>>& modules) {
  return std::any_of(modules.begin(), modules.end(), [](const auto& m) { return m->groups_by_instrument(); });
}

}  // namespace intraday
