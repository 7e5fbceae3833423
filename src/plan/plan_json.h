// A DayPlan as JSON: what `intraday plan --json` prints and what tools and tests read. Keys are
// snake_case; tables are keyed by their config names ("trades", "l2", ...), and per-table figures
// (rows, bytes) list only the tables the pass reads.
#pragma once

#include <nlohmann/json.hpp>

#include "plan/day_plan.h"

namespace intraday {

/// {pass, day, memory_budget, strategy, strategy_reason, universe: {mics, listings: [...]},
///  columns: {table: [column...]}, files: [{table, mic, path, rows, row_groups: [...], clustered}],
///  missing_files: [{table, mic}], size_estimates: {...}, sizes: [...], batches: [...],
///  warnings: [...]}.
/// missing_files are the (table, MIC) pairs of the pass that have no file on the day; each size
/// carries its source per table (none, scan, history).
nlohmann::ordered_json ToJson(const DayPlan& plan);

/// {mode, source, reason, history_days, files_from_history, files_profiled, cache_hits,
///  files_scanned, scanned_rows}: how the day's sizes were obtained (also in the run report).
nlohmann::ordered_json ToJson(const SizeEstimateSummary& summary);

}  // namespace intraday
