// The typed pipeline configuration: what `intraday validate` checks and what plan and run read.
// Plain structs with the documented defaults (docs/config.md); the loader (config_loader.h)
// builds them from YAML, overrides (config_overrides.h) adjust them from the command line.
//
// Paths held here are already resolved: absolute local paths or s3:// URIs, never relative.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/date.h"
#include "config/config_error.h"
#include "io/lake.h"
#include "io/table_catalog.h"

namespace intraday {

inline constexpr uint64_t kDefaultMemoryPerWorker = uint64_t{2} << 30;  // 2 GiB
inline constexpr uint64_t kDefaultShredBuffer = uint64_t{256} << 20;    // 256 MiB
inline constexpr int64_t kDefaultSessionPadding = 10 * 60 * kNanosPerSecond;

/// `data`: where the vendor tables are.
struct DataConfig {
  std::string root;  // absolute local directory or "s3://bucket/prefix"
  S3Settings s3;     // only for s3:// roots
  /// Per-table path templates relative to the root; tables not listed use DefaultPathTemplate.
  std::map<Table, std::string> path_templates;
  /// false: a missing input file is a warning (that MIC-day has no data); true: an error.
  bool strict = false;

  bool is_s3() const { return root.starts_with("s3://"); }
  LakeOptions ToLakeOptions() const { return LakeOptions{root, path_templates, s3}; }
};

/// `universe`: which listings. `mics` select the venues (the lake is laid out by MIC) and are
/// required unless `file` is given; `listings`, `tickers` and `isins` narrow each day's universe
/// to the listings matching any of them.
struct UniverseConfig {
  std::vector<std::string> mics;     // sorted, e.g. {"XLON", "XPAR"}
  std::vector<std::string> tickers;  // sorted
  std::vector<int64_t> listings;     // sorted ListingIds
  std::vector<std::string> isins;    // sorted
  std::string file;                  // resolved .csv or .parquet path, empty if none

  bool has_filters() const { return !tickers.empty() || !listings.empty() || !isins.empty(); }
};

/// `dates`: an inclusive range on a Monday-Friday calendar, minus holidays.
struct DatesConfig {
  Date start;
  Date end;
  std::vector<Date> holidays;  // sorted

  bool IsTradingDay(Date day) const;
  /// Every weekday of [start, end] that is not a holiday, in order.
  std::vector<Date> TradingDays() const;
};

enum class LogLevel { kDebug, kInfo, kWarn, kError };

/// Where the planner's per-listing row counts come from (docs/planning.md, "Sizes from history"):
/// the day's files (exact), the counts earlier runs recorded (an estimate that reads no data), or
/// history when every listing has enough of it. Batching only: outputs never depend on it.
enum class SizeEstimates { kScan, kHistory, kAuto };

/// `run`: where outputs go and how the work is executed. Nothing here changes output values.
struct RunConfig {
  std::string output;   // absolute local directory or s3:// URI
  std::string scratch;  // absolute local directory or s3:// URI
  /// Worker processes at once; std::nullopt = auto: min(cores, RAM / memory_per_worker).
  std::optional<int> workers;
  uint64_t memory_per_worker = kDefaultMemoryPerWorker;
  int retries = 2;
  /// Optional per-table row caps of one batch (execution.md, bin packing).
  std::map<Table, int64_t> max_rows_per_table;
  LogLevel log_level = LogLevel::kInfo;
  bool resume = false;  // skip the days a previous run completed
  bool force = false;   // recompute days already completed
  uint64_t shred_buffer = kDefaultShredBuffer;
  SizeEstimates size_estimates = SizeEstimates::kAuto;
  /// Plan and shred the next day of a pass while the current day's batches run. Costs the
  /// driver's shred buffer and a second day of spill files in scratch at the same time.
  bool overlap_days = true;
  /// With overlap_days: the next day's batches start on any free worker, beside the current day's,
  /// and a batch with a day after it takes one worker's share of the cores, not every idle one.
  /// Faster where a day's own threads leave cores idle, at up to a worker's memory more for each
  /// day beside (docs/engine.md, "Days side by side"). Never changes outputs.
  bool days_side_by_side = false;
  /// A day that does not fit one worker's budget but fits the budgets of several workers together
  /// runs as one batch in one worker that takes their places (Batch::worker_slots), reading the
  /// lake directly, instead of being shredded into several batches (docs/planning.md, "Wide
  /// batches").
  bool wide_batches = true;
  /// Days computed in time slices (docs/planning.md, "A day in time slices"), for passes whose
  /// modules stream over time. Unset (auto): a day that fits neither one worker's budget nor
  /// the workers' together is read by one worker from the lake and computed in slices within its
  /// budget rather than shredded, where that fits; and a day of one direct batch whose worker
  /// would take more than two slices of 128 MiB is computed in slices of 128 MiB. A byte size:
  /// every day of one direct batch larger than that, in slices of that size (a worker's memory
  /// then no longer grows with the day). 0 (off): never.
  std::optional<uint64_t> time_slice;
  /// The day files' compression (zstd, snappy, gzip, none) and, for zstd and gzip, its level
  /// (unset: Arrow's default). Only the files' bytes change, never the values read back.
  std::string output_compression = "zstd";
  std::optional<int> output_compression_level;
};

enum class Anchor { kEnd, kStart };
enum class Closed { kRight, kLeft };
enum class Timeline { kDense, kSparse, kDaily };

/// The metric modules a pass may list (metrics.md).
std::span<const std::string_view> KnownModules();
/// Modules that read an earlier pass's output, named by their `source` option.
bool ReadsEarlierPass(std::string_view module);

/// One module of a pass. Its options are validated by the module itself (through
/// ModuleOptionsValidator), so they stay a YAML node here, with where they came from.
struct ModuleConfig {
  std::string name;      // one of KnownModules()
  YAML::Node options;    // a map; an empty value in the file reads as an empty map
  std::string key_path;  // "passes[0].modules.l2"
  SourceLocation location;
  /// For generic/reaggregate: the earlier pass named by the `source` option, empty if none.
  std::string source;
};

/// One pass over the date range: a bucket grid and the modules computed on it.
struct PassConfig {
  std::string name;
  int64_t bucket_ns = 0;
  Anchor anchor = Anchor::kEnd;
  Closed closed = Closed::kRight;
  Timeline timeline = Timeline::kDense;
  int64_t session_padding_ns = kDefaultSessionPadding;
  std::vector<ModuleConfig> modules;  // in file order

  const ModuleConfig* FindModule(std::string_view name) const;
};

struct PipelineConfig {
  DataConfig data;
  UniverseConfig universe;
  DatesConfig dates;
  RunConfig run;
  std::vector<PassConfig> passes;

  /// The config file as given, and the absolute directory relative paths were resolved against.
  std::string source_file;
  std::string base_dir;
  /// Where each value came from, by key path ("run.workers" -> pipeline.yaml:14:12, or
  /// "command line (--workers)"), so that later stages can point at the line they reject.
  std::map<std::string, SourceLocation> origins;

  const PassConfig* FindPass(std::string_view name) const;
  /// The origin of a key path, or just the file when the key was not given (a default).
  SourceLocation OriginOf(const std::string& key_path) const;
};

std::string_view ToString(LogLevel level);
std::string_view ToString(SizeEstimates mode);
std::string_view ToString(Anchor anchor);
std::string_view ToString(Closed closed);
std::string_view ToString(Timeline timeline);

inline constexpr std::string_view kLogLevelNames[] = {"debug", "info", "warn", "error"};
inline constexpr std::string_view kSizeEstimatesNames[] = {"scan", "history", "auto"};
inline constexpr std::string_view kAnchorNames[] = {"end", "start"};
inline constexpr std::string_view kClosedNames[] = {"right", "left"};
inline constexpr std::string_view kTimelineNames[] = {"dense", "sparse", "daily"};

}  // namespace intraday
