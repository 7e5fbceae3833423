#include "plan/planner.h"

#include <algorithm>
#include <deque>
#include <thread>

#include <fmt/format.h>

#include "plan/day_sizer.h"
#include "plan/packing.h"
#include "plan/row_group_ranges.h"
#include "plan/size_estimator.h"
#include "plan/strategy.h"
#include "plan/trading_day.h"
#include "plan/universe.h"

namespace intraday {

Result<DayPlan> PlanDay(const Lake& lake, const PlanRequest& request) {
  if (request.config == nullptr || request.pass == nullptr) {
    return Status::Invalid("PlanDay: the request needs a config and a pass");
  }
  const PipelineConfig& config = *request.config;
  const bool strict = config.data.strict;
  INTRADAY_RETURN_NOT_OK(CheckTradingDay(config.dates, request.day));

  DayPlan plan;
  plan.pass = request.pass->name;
  plan.day = request.day;
  plan.columns = request.columns;
  plan.memory_budget = config.run.memory_per_worker;
  INTRADAY_ASSIGN_OR_RAISE(plan.universe,
                           ResolveUniverse(lake, config.universe, strict, request.day, &plan.warnings));

  // Sizes from the files or from history (run.size_estimates), file by file.
  INTRADAY_ASSIGN_OR_RAISE(auto sizer, DaySizer::Make(lake, request, plan.universe));

  // Files in catalogue order of their tables, then MIC order. A deque keeps the profiles in place
  // for the FileEstimates that point at them.
  std::deque<FileProfile> profiles;
  std::vector<FileEstimate> estimates;
  for (const TableColumns& table_columns : request.columns) {
    const Table table = table_columns.table;
    for (const std::string& mic : plan.universe.mics) {
      INTRADAY_ASSIGN_OR_RAISE(auto path, lake.Locate(table, request.day, mic));
      if (!path) {
        INTRADAY_ASSIGN_OR_RAISE(auto expected, lake.PathOf(table, request.day, mic));
        const std::string what =
            fmt::format("missing input file: {} of {} on {}: {} does not exist", SpecOf(table).key, mic,
                        request.day.ToString(), lake.DisplayPath(expected));
        if (strict) return Status::IOError(what, " (data.strict is set)");
        plan.warnings.push_back(what + " (no data for that MIC-day)");
        continue;
      }
      const std::string display = lake.DisplayPath(*path);
      INTRADAY_ASSIGN_OR_RAISE(DaySizer::Sized sized, sizer->Profile(*path, display, table, mic));
      FileProfile& profile = sized.profile;
      INTRADAY_ASSIGN_OR_RAISE(const double bytes_per_row,
                               ProjectedBytesPerRow(profile, table_columns.columns, display));
      if (!profile.listings_known) {
        const std::string what = fmt::format("cannot size {}: {}", display, profile.unknown_reason);
        if (strict) return Status::IOError(what, " (data.strict is set)");
        plan.warnings.push_back(
            what + fmt::format(": the {} listings of {} have no size estimate", SpecOf(table).key, mic));
      }
      InputFile file;
      file.table = table;
      file.mic = mic;
      file.path = *path;
      file.display_path = display;
      file.rows = profile.rows;
      file.row_groups = profile.row_groups;
      file.clustered = CheckClustering(file).clustered;
      plan.files.push_back(std::move(file));
      profiles.push_back(std::move(profile));
      estimates.push_back(FileEstimate{table, mic, &profiles.back(), bytes_per_row, sized.source});
    }
  }

  plan.sizes = EstimateListingSizes(plan.universe, estimates);
  if (request.output_row_bytes > 0) AddOutputMemory(*request.pass, request.output_row_bytes, &plan.sizes);
  PackOptions pack;
  pack.memory_budget = DataBudget(plan.memory_budget);
  pack.max_rows_per_table = config.run.max_rows_per_table;
  pack.group_by_instrument = request.group_by_instrument;
  pack.stream_blocker = request.stream_blocker;
  // Packed first for workers that read the lake themselves (direct, row_groups: nothing is
  // copied); if that needs shredding, packed again for workers that read spill files, whose
  // batches also hold copies of their largest listings (PackOptions::gather_threads).
  PackResult packed = PackListings(plan.sizes, pack);
  StrategyChoice choice = ChooseStrategy(packed.batches, plan.files, plan.sizes, pack.memory_budget);
  if (choice.strategy == InputStrategy::kShred) {
    pack.gather_threads = request.worker_threads > 0
                              ? request.worker_threads
                              : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    packed = PackListings(plan.sizes, pack);
    choice = ChooseStrategy(packed.batches, plan.files, plan.sizes, pack.memory_budget);
  }
  plan.batches = std::move(packed.batches);
  plan.warnings.insert(plan.warnings.end(), packed.warnings.begin(), packed.warnings.end());
  plan.gather_threads = pack.gather_threads;
  plan.strategy = choice.strategy;
  plan.strategy_reason = std::move(choice.reason);
  plan.size_estimates = sizer->Summary();
  const std::vector<std::string> sizer_warnings = sizer->warnings();
  plan.warnings.insert(plan.warnings.end(), sizer_warnings.begin(), sizer_warnings.end());
  return plan;
}

std::string DefaultSizeCacheDir(const PipelineConfig& config) { return config.run.output + "/_size_cache"; }

}  // namespace intraday
