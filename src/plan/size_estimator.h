// Size estimation (execution.md): for every listing of a day's universe, the rows and decoded
// bytes each input table of the pass holds, and the worker memory they need. Exact and cheap:
// row counts come from row-group statistics or a scan of the ListingId column (file_profile.h),
// bytes per row from the files' own metadata, and both are cached per input file
// (size_cache.h), so a re-plan of the same day reads no Parquet.
#pragma once

#include <algorithm>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <arrow/filesystem/filesystem.h>

#include "common/status.h"
#include "config/pipeline_config.h"
#include "io/lake.h"
#include "plan/day_plan.h"
#include "plan/file_profile.h"
#include "plan/size_cache.h"

namespace intraday {

/// Worker memory per byte of decoded, projected input, in quarters: 1.25x. Output rows are added
/// apart (AddOutputMemory), and for workers that read spill files the copies of listings spread
/// over them, a term of the batch (PackOptions::gather_threads).
///   - A worker reading the lake (direct, row_groups) places every row where its listing's rows
///     are and sorts a listing out of time order in place (exec/batch_worker.cc,
///     ReadTablesGrouped); one reading spill files maps them (page-cache pages). Either holds the
///     decoded input once (1x), and 0.25x for decode buffers, each row's listing slot while
///     reading, string columns grouped then concatenated, the in-place sort's scratch (a listing
///     per thread) and allocator slack.
///   - Measured (docs/planning.md): a direct 100-listing day of 612 MiB decoded peaks at 834 MiB
///     with 2 threads, 1.2x over the base with its output rows; shredded 200-listing days' batches
///     at 1.26-1.49x their input with their outputs and copies.
inline constexpr uint64_t kWorkerMemoryQuarters = 5;

/// The worker memory planned for `decoded_bytes` of input (kWorkerMemoryQuarters).
inline constexpr uint64_t WorkerMemoryOf(uint64_t decoded_bytes) {
  return decoded_bytes * kWorkerMemoryQuarters / 4;
}

/// A worker's memory before any data: the binary, Arrow's shared libraries (relocated at load,
/// so partly private pages), the allocator and its threads. A worker of a 10-listing day with
/// 6.9 MiB of decoded input peaks at 101 MiB (docs/planning.md), so ~80 MiB, rounded up.
inline constexpr uint64_t kWorkerBaseBytes = 96ull << 20;

/// What a batch's data may take of a worker's budget (what packing fills): the budget less the
/// worker's base memory, but at least half the budget (budgets that small are for tests).
inline uint64_t DataBudget(uint64_t memory_per_worker) {
  return memory_per_worker - std::min(kWorkerBaseBytes, memory_per_worker / 2);
}

/// The most output rows one listing can have in a day: one per bucket of the day for a dense
/// timeline (the session is not known when planning: the whole day bounds it), at most one per
/// input row for a sparse one, one for a daily one.
uint64_t OutputRowsBound(const PassConfig& pass, const ListingSize& size);

/// The most output rows `listings` listings can have together in a day whose input rows, over
/// every listing, are `every_row`'s: as OutputRowsBound each, and on a sparse timeline no more
/// than the rows (the sum of each listing's least of buckets and rows is at most the least of
/// their sums).
uint64_t OutputRowsBoundOfDay(const PassConfig& pass, const ListingSize& every_row, uint64_t listings);

/// Adds each listing's output (OutputRowsBound x `row_bytes`) to its worker memory: a worker
/// holds its listings' output rows until it writes them, and with small buckets on a dense
/// timeline they outweigh the input (1-second buckets: ~30 000 rows per listing of ~130 columns).
void AddOutputMemory(const PassConfig& pass, uint64_t row_bytes, std::vector<ListingSize>* sizes);

/// What SizeEstimator did, for logs and for tests to observe the cache.
struct SizeEstimatorStats {
  int profiled = 0;       // Profile() calls that succeeded
  int cache_hits = 0;     // ... answered from the cache, without opening the file
  int cache_writes = 0;   // entries written
  int scanned_files = 0;  // files whose ListingId column had to be read
  int64_t scanned_rows = 0;
};

/// Profiles input files, through the size cache when it has one. Not thread-safe: one per
/// planning thread (the cache itself tolerates concurrent planners).
class SizeEstimator {
 public:
  /// `cache` may be null: every file is then profiled from its metadata (and scanned if needed).
  SizeEstimator(std::shared_ptr<arrow::fs::FileSystem> fs, std::unique_ptr<SizeCache> cache);

  /// The profile of a file of the lake (`path` inside `fs`, `display_path` for messages).
  /// A cache that cannot be written is not an error: planning goes on, and warnings() says so.
  Result<FileProfile> Profile(const std::string& path, const std::string& display_path, Table table);

  const SizeEstimatorStats& stats() const { return stats_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  const SizeCache* cache() const { return cache_.get(); }

 private:
  std::shared_ptr<arrow::fs::FileSystem> fs_;
  std::unique_ptr<SizeCache> cache_;
  SizeEstimatorStats stats_;
  std::vector<std::string> warnings_;
};

/// One sized input file of the day, as EstimateListingSizes needs it.
struct FileEstimate {
  Table table = Table::kTrades;
  std::string mic;
  const FileProfile* profile = nullptr;   // profile->listings_known false: sizes unknown
  double bytes_per_row = 0;               // of the pass's projected columns (ProjectedBytesPerRow)
  SizeSource source = SizeSource::kScan;  // where profile->listing_rows come from
};

/// Sizes of every listing of the universe (sorted by ListingId, like the universe):
///   rows[t]  = rows of the listing in the file of table t for the listing's MIC; 0 when the file
///              holds none of its rows or does not exist (no data: exact, not unknown);
///   bytes[t] = rows[t] x the file's projected bytes per row;
///   memory_bytes = WorkerMemoryOf(the sum of bytes over tables);
///   source[t]    = the file's source (kNone when the listing's MIC has no file of table t).
/// A listing whose MIC has a file with unknown listings gets estimated = false, never zero: its
/// figures for that table are the largest any sized listing has for it on the day (a floor for
/// display), and packing plans it alone (packing.h).
std::vector<ListingSize> EstimateListingSizes(const Universe& universe, std::span<const FileEstimate> files);

}  // namespace intraday
