// Planning one day of one pass: universe -> input files -> size estimates -> batches -> the
// input strategy (direct, row groups, shred) with the reason. No metric is computed here.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/pipeline_config.h"
#include "io/lake.h"
#include "metrics/module.h"
#include "plan/day_plan.h"

namespace intraday {

/// The columns a pass reads per table: the union of its modules' declared inputs, plus
/// ListingId and each table's event-time column; dense passes also read the market states
/// (ListingId, TimestampNanoseconds, MarketState) for their sessions. Tables in catalogue order,
/// columns in first-declared order.
std::vector<TableColumns> PassColumns(const std::vector<std::unique_ptr<Module>>& modules,
                                      const PassConfig& pass);

/// True if any module of the pass needs an instrument's listings in one batch.
bool PassGroupsByInstrument(const std::vector<std::unique_ptr<Module>>& modules);

struct PlanRequest {
  const PipelineConfig* config = nullptr;
  const PassConfig* pass = nullptr;
  std::vector<TableColumns> columns;
  bool group_by_instrument = false;
  /// StreamBlocker of the pass's modules: empty if an oversize listing can stream over time.
  std::string stream_blocker = "pass modules unknown";
  Date day;
  /// Directory for the per-input-file size cache; empty disables caching.
  std::string size_cache_dir;
  /// Directory of the size history (plan/size_history.h) read when config->run.size_estimates is
  /// history or auto; empty = no history (the day is sized from its files).
  std::string size_history_dir;
  /// Bytes of one output row of the pass (OutputRowBytes of its schema): the worker holds its
  /// listings' output rows, which small buckets make larger than their input (AddOutputMemory).
  /// 0 leaves outputs out of the estimates.
  uint64_t output_row_bytes = 0;
  /// The most threads a worker may compute with (a batch running alone gets every core): each
  /// copies listings of a shredded batch into its own buffers (PackOptions::gather_threads).
  /// 0: the machine's cores.
  int worker_threads = 0;
  /// Worker places of the run (run.workers): a day that would be shredded but fits the budgets of
  /// up to this many workers together is one wide batch instead (run.wide_batches).
  int worker_slots = 1;
};

/// Where plan and run keep the per-input-file size cache: {run.output}/_size_cache. Not under
/// scratch, which a finished run leaves empty; readers of the output ignore '_' entries.
std::string DefaultSizeCacheDir(const PipelineConfig& config);

/// Plans one day. Missing files are warnings in the plan (errors when data.strict is set);
/// unreadable files are errors naming the file. A file whose footer reads but whose ListingId data
/// does not decode leaves its listings without a size estimate (a warning; an error when strict):
/// they are planned alone, never as zero (docs/planning.md). A day that is not a trading day of
/// the config is an error. With run.size_estimates auto, a day whose files fit one worker whole,
/// or with run.wide_batches the workers' budgets together, is planned from their footers alone
/// (DayPlan::whole_day; no per-listing sizes).
Result<DayPlan> PlanDay(const Lake& lake, const PlanRequest& request);

}  // namespace intraday
