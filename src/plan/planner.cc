#include "plan/planner.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>

#include <fmt/format.h>

#include "common/machine.h"
#include "common/units.h"
#include "io/listing_slots.h"
#include "plan/day_sizer.h"
#include "plan/file_profile.h"
#include "plan/packing.h"
#include "plan/row_group_ranges.h"
#include "plan/size_estimator.h"
#include "plan/strategy.h"
#include "plan/trading_day.h"
#include "plan/universe.h"

namespace intraday {
namespace {

struct LocatedFile {
  const TableColumns* columns;  // the table and the pass's columns of it
  std::string mic;
  std::string path;
  std::string display_path;
};

InputFile FileOf(const LocatedFile& located, const FileProfile& profile) {
  InputFile file;
  file.table = located.columns->table;
  file.mic = located.mic;
  file.path = located.path;
  file.display_path = located.display_path;
  file.rows = profile.rows;
  file.row_groups = profile.row_groups;
  file.clustered = CheckClustering(file).clustered;
  return file;
}

/// The fewest worker places, from `first` to `most`, whose data budgets together hold `bytes`;
/// most + 1 when none does.
int FewestPlaces(uint64_t memory_per_worker, uint64_t bytes, int first, int most) {
  int places = first;
  while (places <= most && DataBudget(static_cast<uint64_t>(places) * memory_per_worker) < bytes) ++places;
  return places;
}

/// run.size_estimates auto: a day whose files, read whole (every listing of their MICs), fit one
/// worker is one batch, planned from the files' footers alone. Its listings' rows are not
/// counted: the count (a scan of the ListingId column wherever a row group holds several
/// listings) would only confirm that one batch fits, and it cost a tenth of a one-batch day's
/// run on the benchmark lake (docs/planning.md, "A day that fits whole"). The bound is above
/// what counting gives (the same decoded bytes per row, every row of the files, the output rows
/// of the sparse timeline bounded by all the files' events), so the batch and the strategy are
/// the ones counting would give. With run.wide_batches, a day whose bound fits the budgets of
/// several workers together (2 .. `request.worker_slots`) is likewise one wide batch taking the
/// fewest places that hold it (PackWide's, which counting would give: a lake read of every
/// listing). Returns false, leaving `plan` as it was, if the bound does not fit or a row cap
/// applies.
Result<bool> PlanWholeDay(const Lake& lake, const PlanRequest& request,
                          const std::vector<LocatedFile>& located, DayPlan* plan) {
  if (plan->universe.listings.empty()) return false;
  WholeDayBound bound;
  std::vector<InputFile> files;
  for (const LocatedFile& file : located) {
    const Table table = file.columns->table;
    INTRADAY_ASSIGN_OR_RAISE(FileProfile profile,
                             ProfileFooter(lake.fs(), file.path, file.display_path, table));
    INTRADAY_ASSIGN_OR_RAISE(const double bytes_per_row,
                             ProjectedBytesPerRow(profile, file.columns->columns, file.display_path));
    bound.rows[TableIndex(table)] += profile.rows;
    // Counting rounds each listing's bytes up (EstimateListingSizes): a byte per listing of the
    // file's MIC keeps the bound above the sum of those.
    const auto listings_of_mic = std::count_if(plan->universe.listings.begin(), plan->universe.listings.end(),
                                               [&](const Listing& l) { return l.mic == file.mic; });
    const uint64_t file_bytes =
        static_cast<uint64_t>(std::ceil(static_cast<double>(profile.rows) * bytes_per_row)) +
        static_cast<uint64_t>(listings_of_mic);
    bound.table_bytes[TableIndex(table)] += file_bytes;
    bound.decoded_bytes += file_bytes;
    files.push_back(FileOf(file, profile));
  }
  if (request.output_row_bytes > 0) {
    ListingSize every_row;
    every_row.rows = bound.rows;
    bound.output_bytes = OutputRowsBoundOfDay(*request.pass, every_row, plan->universe.listings.size()) *
                         request.output_row_bytes;
  }
  bound.memory_bytes = WorkerMemoryOf(bound.decoded_bytes) + bound.output_bytes;
  for (const auto& [table, cap] : request.config->run.max_rows_per_table) {
    if (bound.rows[TableIndex(table)] > cap) return false;
  }
  // One worker's place, or with wide batches up to the run's workers.
  auto budget_of = [&](int places) {
    return DataBudget(static_cast<uint64_t>(places) * plan->memory_budget);
  };
  const int most = request.config->run.wide_batches ? std::max(1, request.worker_slots) : 1;
  const int places = FewestPlaces(plan->memory_budget, bound.memory_bytes, 1, most);
  if (places > most) return false;

  Batch batch;
  batch.rows = bound.rows;
  batch.memory_bytes = bound.memory_bytes;
  batch.worker_slots = places;
  for (const Listing& listing : plan->universe.listings) batch.listings.push_back(listing.listing_id);
  plan->files = std::move(files);
  plan->batches = {std::move(batch)};
  plan->strategy = InputStrategy::kDirect;
  plan->strategy_reason =
      places == 1 ? fmt::format("the day's files fit one worker's budget whole: at most {} of {} for data",
                                FormatBytes(bound.memory_bytes), FormatBytes(budget_of(1)))
                  : fmt::format(
                        "the day's files fit the budgets of {} workers together, not one: at most {} of {} "
                        "for data; one worker takes their {} places instead of shredding (run.wide_batches)",
                        places, FormatBytes(bound.memory_bytes), FormatBytes(budget_of(places)), places);
  plan->whole_day = bound;
  SizeEstimateSummary& summary = plan->size_estimates;
  summary.mode = std::string(ToString(SizeEstimates::kAuto));
  summary.source = "footer";
  summary.reason = places == 1 ? "the day's files, whole, fit one worker: rows per listing not counted"
                               : fmt::format(
                                     "the day's files, whole, fit the budgets of {} workers together: rows "
                                     "per listing not counted",
                                     places);
  summary.files_from_footer = static_cast<int>(plan->files.size());
  return true;
}

struct WidePlan {
  PackResult packed;
  StrategyChoice choice;
};

/// A day that would be shredded into several batches, planned instead as one batch for a worker
/// with the budgets of the fewest workers (2 .. `slots`) that hold it together: one decode of the
/// lake files in that worker, against the driver's decode, routing and spill writes plus every
/// batch's reading back (50 listings x 8 days with 512 MiB workers, one 1 GiB worker per day:
/// -29% wall, -30% peak; docs/benchmarks.md, "Session 15"). The batch counts as that many
/// workers while it runs, so the run's memory stays within workers x budget. Empty where no
/// such batch exists: a row cap, a listing over the budgets together, a listing of unknown size
/// (PackListings puts each of those alone, so the day is never one batch).
std::optional<WidePlan> PackWide(const DayPlan& plan, const PackOptions& pack, int slots) {
  auto budget_of = [&](int k) { return DataBudget(static_cast<uint64_t>(k) * plan.memory_budget); };
  if (slots < 2) return std::nullopt;
  PackOptions wide = pack;
  wide.gather_threads = 0;  // read from the lake, as a direct batch: nothing gathered
  wide.memory_budget = budget_of(slots);
  PackResult packed = PackListings(plan.sizes, wide);
  if (packed.batches.size() != 1 || packed.batches.front().oversize) return std::nullopt;
  Batch& batch = packed.batches.front();
  // A lake read's batch is the sum of its listings: the fewest places whose budget holds it.
  // Packed within `slots` places' budget, so some k <= slots holds it.
  const int k = FewestPlaces(plan.memory_budget, batch.memory_bytes, 2, slots);
  batch.worker_slots = k;
  std::string reason = fmt::format(
      "the day fits the budgets of {} workers together, not one: {} of {} for data; one worker takes "
      "their {} places instead of shredding (run.wide_batches)",
      k, FormatBytes(batch.memory_bytes), FormatBytes(budget_of(k)), k);
  return WidePlan{std::move(packed), {InputStrategy::kDirect, std::move(reason)}};
}

/// The day's totals a sliced estimate needs: summed over the listings' sizes, or, for a day
/// sized whole from its footers (DayPlan::whole_day), its bound.
struct DayTotals {
  std::array<int64_t, kTableCount> rows{};
  std::array<uint64_t, kTableCount> bytes{};  // decoded
  uint64_t output_bytes = 0;
  size_t listings = 0;
};

DayTotals TotalsOf(const DayPlan& plan) {
  DayTotals totals;
  if (plan.sizes.empty() && plan.whole_day) {
    totals.rows = plan.whole_day->rows;
    totals.bytes = plan.whole_day->table_bytes;
    totals.output_bytes = plan.whole_day->output_bytes;
    totals.listings = plan.universe.listings.size();
    return totals;
  }
  for (const ListingSize& size : plan.sizes) {
    for (size_t t = 0; t < kTableCount; ++t) {
      totals.rows[t] += size.rows[t];
      totals.bytes[t] += size.bytes[t];
    }
    totals.output_bytes += size.output_bytes;
  }
  totals.listings = plan.sizes.size();
  return totals;
}

/// Memory a sliced day's worker holds whatever the slice: per input row its listing's slot (1, 2
/// or 4 bytes, as many as the listings need: RowSlots) until its piece is read; its bucket is one
/// of a run of rows in one bucket, a run per bucket and piece in rows in time order (files whose
/// row groups are not in time order are not sliced: SlicesPay).
uint64_t SlicedDayKeyBytes(const DayTotals& totals) {
  const auto width = static_cast<uint64_t>(RowSlots(totals.listings).width());
  uint64_t bytes = 0;
  for (int64_t rows : totals.rows) bytes += width * static_cast<uint64_t>(rows);
  return bytes;
}

uint64_t OutputBytes(const DayPlan& plan) { return TotalsOf(plan).output_bytes; }

/// What a sliced day's worker holds of its output rows: all of them until the last slice, or,
/// set aside in scratch slice by slice (Batch::slice_output_spilled), a chunk's per thread while
/// the chunks are merged after the last slice, about an eighth (16 chunks a thread).
inline constexpr uint64_t kSpilledOutputShare = 8;

bool LocalScratch(const PipelineConfig& config) { return !config.run.scratch.starts_with("s3://"); }

/// What a sliced day's worker holds of the rows decoded ahead of their slice: a slice reads a
/// row group up to its last row of the slice, and the rows of later slices it passes (rows out
/// of time order within the group) are held until then; in rows in time order none. The bound
/// is the worst case, each file's largest row group held, decoded (the day's decoded bytes per
/// row of its table); it also covers the open readers of the groups a cut splits.
uint64_t HeldRowsBound(const DayPlan& plan, const DayTotals& totals) {
  std::array<double, kTableCount> bytes_per_row{};
  for (size_t t = 0; t < kTableCount; ++t) {
    bytes_per_row[t] =
        totals.rows[t] > 0 ? static_cast<double>(totals.bytes[t]) / static_cast<double>(totals.rows[t]) : 0;
  }
  double held = 0;
  for (const InputFile& file : plan.files) {
    int64_t largest = file.row_groups.empty() ? file.rows : 0;
    for (const auto& group : file.row_groups) largest = std::max(largest, group.rows);
    held += static_cast<double>(largest) * bytes_per_row[TableIndex(file.table)];
  }
  return static_cast<uint64_t>(held);
}

/// A sliced day's worker memory per byte of slice besides the held rows: the slice placed
/// (WorkerMemoryOf, 1.25x) and its pieces' decode and string buffers. Measured
/// (docs/planning.md, "A day in time slices").
inline constexpr uint64_t kSlicedMemoryPerSliceQuarters = 9;

/// What a sliced day's worker holds besides its slice: the keys, the held rows' bound and the
/// output rows it holds (all of them, or, set aside in scratch with `spilled`, a chunk's share).
uint64_t SlicedFixedBytes(const DayPlan& plan, bool spilled) {
  const DayTotals totals = TotalsOf(plan);
  const uint64_t output = totals.output_bytes;
  return SlicedDayKeyBytes(totals) + HeldRowsBound(plan, totals) +
         (spilled ? output / kSpilledOutputShare : output);
}

/// A sliced day's worker memory with slices of `slice` bytes.
uint64_t SlicedWorkerBytes(const DayPlan& plan, uint64_t slice, bool spilled) {
  return SlicedFixedBytes(plan, spilled) + slice * kSlicedMemoryPerSliceQuarters / 4;
}

/// The most slices the planner cuts a day into on its own (run.time_slice auto): each slice has
/// fixed costs (a pass over every listing and piece, rows carried between slices), and 54 slices
/// of a 200-listing day took 1.9x the time of shredding it (docs/planning.md).
inline constexpr uint64_t kMaxAutoTimeSlices = 16;

/// run.time_slice auto's slice for a day that fits its worker whole: since session 21 slices of
/// this size cost no measurable time on the benchmark lakes and bound the worker's memory
/// (50 x 8 days: tree peak 539 -> 382 MiB; 200 x 2 days: 1 383 -> 451 MiB; docs/planning.md).
inline constexpr uint64_t kAutoTimeSliceBytes = uint64_t{128} << 20;

/// Whether slicing the day pays: only when every input file's row groups follow one another in
/// time (their event time statistics), so that a cut splits about one row group per file. Row
/// groups by listing (the `listing` layout) or rows in no order each span the whole day: the
/// first slice would decode and hold nearly all of it.
Result<bool> SlicesPay(const Lake& lake, const DayPlan& plan) {
  for (const InputFile& file : plan.files) {
    INTRADAY_ASSIGN_OR_RAISE(const bool ordered,
                             RowGroupsInTimeOrder(lake.fs(), file.path, file.display_path, file.table));
    if (!ordered) return false;
  }
  return true;
}

/// A day that would be shredded, planned instead as one direct batch computed in time slices
/// within one worker's budget (run.time_slice auto or a size): one decode of the lake files in
/// that worker, no spill files (200 listings x 2 days with one 1 GiB worker: -12% wall, peak
/// 867 -> 685 MiB against shredding; docs/planning.md). Empty where the pass does not stream over time, a row
/// cap applies (a batch of the whole day would break it), a listing has no size estimate, or
/// the fixed part (above) leaves room only for more than kMaxAutoTimeSlices slices.
Result<std::optional<WidePlan>> PackSliced(const Lake& lake, const DayPlan& plan,
                                           const PlanRequest& request) {
  const std::optional<uint64_t>& setting = request.config->run.time_slice;
  if (setting == 0 || !request.stream_blocker.empty() || !request.config->run.max_rows_per_table.empty() ||
      plan.sizes.size() < 2)
    return std::nullopt;
  if (std::any_of(plan.sizes.begin(), plan.sizes.end(), [](const ListingSize& s) { return !s.estimated; }))
    return std::nullopt;
  const uint64_t budget = DataBudget(plan.memory_budget);
  const uint64_t output = OutputBytes(plan);
  // The slice with the output rows held, unless they are then large enough to be set aside.
  auto slice_with = [&](bool spilled) -> uint64_t {
    const uint64_t fixed = SlicedFixedBytes(plan, spilled);
    if (fixed >= budget) return 0;
    const uint64_t slice = (budget - fixed) * 4 / kSlicedMemoryPerSliceQuarters;
    return setting ? std::min(slice, *setting) : slice;
  };
  uint64_t slice = slice_with(false);
  bool spilled = false;
  if (const uint64_t aside = slice_with(true);
      (slice == 0 || SpillSliceOutput(LocalScratch(*request.config), output, slice)) &&
      SpillSliceOutput(LocalScratch(*request.config), output, aside)) {
    slice = aside;
    spilled = true;
  }
  Batch batch;
  uint64_t decoded = 0;
  for (const ListingSize& size : plan.sizes) {
    batch.listings.push_back(size.listing_id);
    for (size_t t = 0; t < size.rows.size(); ++t) batch.rows[t] += size.rows[t];
    decoded += size.decoded_bytes();
  }
  if (slice == 0 || slice * kMaxAutoTimeSlices < decoded) return std::nullopt;
  INTRADAY_ASSIGN_OR_RAISE(const bool pays, SlicesPay(lake, plan));
  if (!pays) return std::nullopt;
  batch.memory_bytes = SlicedWorkerBytes(plan, slice, spilled);
  batch.time_slice_bytes = slice;
  batch.slice_output_spilled = spilled;
  std::string reason = fmt::format(
      "the day fits no worker's budget whole ({} decoded); one worker reads the lake and computes it in time "
      "slices of about {} within its budget, {} of {} for data, instead of shredding (run.time_slice){}",
      FormatBytes(decoded), FormatBytes(slice), FormatBytes(batch.memory_bytes), FormatBytes(budget),
      spilled
          ? fmt::format("; its {} of output rows set aside in scratch between slices", FormatBytes(output))
          : std::string());
  PackResult packed;
  packed.batches.push_back(std::move(batch));
  return std::optional<WidePlan>(WidePlan{std::move(packed), {InputStrategy::kDirect, std::move(reason)}});
}

/// A day of one direct batch larger than the slice is computed in slices of run.time_slice (a
/// size), or with auto of kAutoTimeSliceBytes where its worker would take more than two of them,
/// so that its worker's memory no longer grows with the day's rows.
Status SliceLargeDirectDay(const Lake& lake, const PlanRequest& request, DayPlan* plan) {
  const std::optional<uint64_t>& setting = request.config->run.time_slice;
  if ((setting && *setting == 0) || !request.stream_blocker.empty() ||
      plan->strategy != InputStrategy::kDirect || plan->batches.size() != 1)
    return Status::OK();
  const uint64_t slice = setting ? *setting : kAutoTimeSliceBytes;
  Batch& batch = plan->batches.front();
  if (batch.time_slice_bytes != 0 || batch.listings.size() < 2 ||
      batch.memory_bytes <= (setting ? 1 : 2) * slice)
    return Status::OK();
  INTRADAY_ASSIGN_OR_RAISE(const bool pays, SlicesPay(lake, *plan));
  if (!pays) return Status::OK();
  batch.time_slice_bytes = slice;
  // A day sized whole for one worker leaves it to its worker to set its output rows aside, by
  // their count (docs/engine.md): the plan has only a bound of them (a dense timeline's every
  // bucket of the day). A wide one decides here, as counting its listings would have (the same
  // estimate on a dense timeline): its places below depend on it.
  batch.slice_output_spilled = !(plan->whole_day && batch.worker_slots == 1) &&
                               SpillSliceOutput(LocalScratch(*request.config), OutputBytes(*plan), slice);
  plan->strategy_reason += fmt::format(
      "; computed in time slices of about {} (run.time_slice{}){}", FormatBytes(slice),
      setting ? "" : ": auto",
      batch.slice_output_spilled ? fmt::format(", its {} of output rows set aside in scratch between slices",
                                               FormatBytes(OutputBytes(*plan)))
                                 : std::string());
  // A wide batch computed in slices holds a slice, not its day: it takes the places its sliced
  // estimate needs, so that the next day's worker can start beside it once it only writes its
  // output (200 x 2 days: the same peak, wall 0.93-1.00 of before; docs/benchmarks.md "Session 22").
  if (batch.worker_slots > 1) {
    const uint64_t sliced = SlicedWorkerBytes(*plan, slice, batch.slice_output_spilled);
    const int places = FewestPlaces(plan->memory_budget, sliced, 1, batch.worker_slots);
    if (places < batch.worker_slots) {
      plan->strategy_reason +=
          fmt::format("; in slices it takes {} worker place{} ({} for data), not {}", places,
                      places == 1 ? "" : "s", FormatBytes(sliced), batch.worker_slots);
      batch.worker_slots = places;
    }
  }
  return Status::OK();
}

}  // namespace

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

  // The day's files, in catalogue order of their tables, then MIC order.
  std::vector<LocatedFile> located;
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
      located.push_back(LocatedFile{&table_columns, mic, *path, lake.DisplayPath(*path)});
    }
  }
  if (config.run.size_estimates == SizeEstimates::kAuto) {
    INTRADAY_ASSIGN_OR_RAISE(const bool whole, PlanWholeDay(lake, request, located, &plan));
    if (whole) {
      INTRADAY_RETURN_NOT_OK(SliceLargeDirectDay(lake, request, &plan));
      return plan;
    }
  }

  // Sizes from the files or from history (run.size_estimates), file by file. A deque keeps the
  // profiles in place for the FileEstimates that point at them.
  INTRADAY_ASSIGN_OR_RAISE(auto sizer, DaySizer::Make(lake, request, plan.universe));
  std::deque<FileProfile> profiles;
  std::vector<FileEstimate> estimates;
  for (const LocatedFile& located_file : located) {
    const Table table = located_file.columns->table;
    const std::string& display = located_file.display_path;
    INTRADAY_ASSIGN_OR_RAISE(DaySizer::Sized sized,
                             sizer->Profile(located_file.path, display, table, located_file.mic));
    FileProfile& profile = sized.profile;
    INTRADAY_ASSIGN_OR_RAISE(const double bytes_per_row,
                             ProjectedBytesPerRow(profile, located_file.columns->columns, display));
    if (!profile.listings_known) {
      const std::string what = fmt::format("cannot size {}: {}", display, profile.unknown_reason);
      if (strict) return Status::IOError(what, " (data.strict is set)");
      plan.warnings.push_back(what + fmt::format(": the {} listings of {} have no size estimate",
                                                 SpecOf(table).key, located_file.mic));
    }
    plan.files.push_back(FileOf(located_file, profile));
    profiles.push_back(std::move(profile));
    estimates.push_back(FileEstimate{table, located_file.mic, &profiles.back(), bytes_per_row, sized.source});
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
    pack.gather_threads = request.worker_threads > 0 ? request.worker_threads : ThisMachine().cores;
    packed = PackListings(plan.sizes, pack);
    choice = ChooseStrategy(packed.batches, plan.files, plan.sizes, pack.memory_budget);
  }
  if (choice.strategy == InputStrategy::kShred && config.run.wide_batches) {
    if (auto wide = PackWide(plan, pack, request.worker_slots)) {
      packed = std::move(wide->packed);
      choice = std::move(wide->choice);
      pack.gather_threads = 0;
    }
  }
  if (choice.strategy == InputStrategy::kShred) {
    INTRADAY_ASSIGN_OR_RAISE(auto sliced, PackSliced(lake, plan, request));
    if (sliced) {
      packed = std::move(sliced->packed);
      choice = std::move(sliced->choice);
      pack.gather_threads = 0;
    }
  }
  plan.batches = std::move(packed.batches);
  plan.warnings.insert(plan.warnings.end(), packed.warnings.begin(), packed.warnings.end());
  plan.gather_threads = pack.gather_threads;
  plan.strategy = choice.strategy;
  plan.strategy_reason = std::move(choice.reason);
  INTRADAY_RETURN_NOT_OK(SliceLargeDirectDay(lake, request, &plan));
  plan.size_estimates = sizer->Summary();
  const std::vector<std::string> sizer_warnings = sizer->warnings();
  plan.warnings.insert(plan.warnings.end(), sizer_warnings.begin(), sizer_warnings.end());
  return plan;
}

std::string DefaultSizeCacheDir(const PipelineConfig& config) { return config.run.output + "/_size_cache"; }

}  // namespace intraday
