// plan/: what a day of a pass needs and how it is cut into batches, computed before any work
// runs: the day's universe, the input files, per-listing size estimates (rows and bytes, cached
// per input file), and the bin packing of listings into batches under the per-worker memory
// budget. Everything here is a plain value that `intraday plan` prints and the engine executes.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/date.h"
#include "io/table_catalog.h"

namespace intraday {

inline constexpr size_t kTableCount = 7;
inline size_t TableIndex(Table table) { return static_cast<size_t>(table); }

/// One listing of a day's universe (from the reference table or a universe file).
struct Listing {
  int64_t listing_id = 0;
  int64_t instrument_id = 0;  // 0 if unknown
  std::string mic;
  std::string ticker;
  std::string isin;
  std::string currency;
  bool is_primary = false;
  /// The other columns of a universe file (not of the reference table), as text, by name.
  std::vector<std::pair<std::string, std::string>> extra;
};

/// The listings to process on a day, sorted by ListingId, unique.
struct Universe {
  Date day;
  std::vector<Listing> listings;
  std::vector<std::string> mics;  // the MICs whose files are read, sorted
};

/// The columns a pass reads from each table (ListingId and the event-time column included).
struct TableColumns {
  Table table;
  std::vector<std::string> columns;
};

/// A located input file of the day.
struct InputFile {
  Table table;
  std::string mic;
  std::string path;          // inside the lake's filesystem
  std::string display_path;  // for messages
  int64_t rows = 0;
  /// Row groups whose ListingId statistics are known, as [min, max] per row group, in file order.
  /// `clustered` is true when these ranges are sorted and disjoint (a listing never spans two
  /// row groups except as a contiguous run), so that a batch can read just its row groups.
  struct RowGroupRange {
    int index;
    int64_t min_listing;
    int64_t max_listing;
    int64_t rows;
  };
  std::vector<RowGroupRange> row_groups;
  bool clustered = false;
};

/// Where a listing's rows of one table come from (docs/planning.md).
enum class SizeSource : uint8_t {
  kNone,     // no input file for the table and the listing's MIC: 0 rows, exact
  kScan,     // the day's file: row-group statistics, a ListingId scan, or the size cache (exact)
  kHistory,  // the median of the rows earlier runs recorded (an estimate; no data read)
};

/// Estimated size of one listing's data for the pass, per table and in total.
struct ListingSize {
  int64_t listing_id = 0;
  int64_t instrument_id = 0;
  std::array<int64_t, kTableCount> rows{};       // rows per table (TableIndex)
  std::array<uint64_t, kTableCount> bytes{};     // decoded bytes of the projected columns per table
  uint64_t memory_bytes = 0;                     // estimated worker memory for this listing
  uint64_t output_bytes = 0;                     // ... of which its output rows (AddOutputMemory)
  bool estimated = true;                         // false when the listing's figures are unknown
  std::array<SizeSource, kTableCount> source{};  // per table (TableIndex)

  /// Decoded bytes over all tables.
  uint64_t decoded_bytes() const {
    uint64_t total = 0;
    for (uint64_t b : bytes) total += b;
    return total;
  }
};

/// How a day's sizes were obtained: the mode asked for, the source chosen and why, and what it
/// cost (files profiled, scanned), for `intraday plan` and the run report.
struct SizeEstimateSummary {
  std::string mode;    // run.size_estimates: scan, history or auto
  std::string source;  // scan, history, or mixed (history for some files, scan for others)
  std::string reason;
  std::vector<Date> history_days;  // the recorded days the medians were taken over, latest first
  int files_from_history = 0;      // files sized from history: only their footer was read
  int files_profiled = 0;          // files sized from themselves (footer, statistics, cache, scan)
  int cache_hits = 0;              // ... of which answered by the size cache
  int files_scanned = 0;           // ... of which had their ListingId column read
  int64_t scanned_rows = 0;
  int files_from_footer = 0;  // files sized whole by their footer (source "footer")
};

/// What the day's input files hold whole, from their footers alone (every listing of their MICs,
/// in or out of the universe): an upper bound of the day's size, enough when it fits one worker,
/// or the workers together as one wide batch.
struct WholeDayBound {
  std::array<int64_t, kTableCount> rows{};          // per table (TableIndex)
  std::array<uint64_t, kTableCount> table_bytes{};  // decoded_bytes per table
  uint64_t decoded_bytes = 0;                       // of the projected columns
  uint64_t output_bytes = 0;                        // the universe's output rows, at most
  uint64_t memory_bytes = 0;                        // WorkerMemoryOf(decoded_bytes) + output_bytes
};

/// How a batch gets its input rows.
enum class InputStrategy {
  kDirect,     // one batch: the worker reads the day's files itself (no shredding)
  kRowGroups,  // clustered files: each batch reads only its row groups
  kShred,      // files are shredded into per-batch spill files first
};

struct Batch {
  int id = 0;
  std::vector<int64_t> listings;  // sorted
  std::array<int64_t, kTableCount> rows{};
  uint64_t memory_bytes = 0;
  bool oversize = false;  // a single listing over the budget
  /// Oversize, and the pass streams over time (Module::streams_over_time): the worker computes
  /// the listing in time slices within the budget instead of loading all its rows.
  bool streamed = false;
  /// Worker places the batch takes (run.wide_batches): 1, or for a day that fits the budgets of
  /// that many workers together but not one, that many; its worker's budget is then theirs
  /// together, and no other batch runs in their places meanwhile.
  int worker_slots = 1;
  /// The worker places and computes the day's rows in time slices of about this many decoded
  /// bytes over all the batch's listings (run.time_slice; docs/planning.md, "A day in time
  /// slices"); 0: whole. Only a direct batch of a pass whose modules stream over time.
  uint64_t time_slice_bytes = 0;
  /// Sliced: each slice's output rows are set aside in a scratch file and merged listing by
  /// listing after the last slice (local scratch only), rather than held until then.
  bool slice_output_spilled = false;
};

/// Whether a sliced day's output rows are set aside in scratch between slices: where scratch is
/// local and they are more than an eighth of a slice. Setting them aside costs no measured time
/// since session 21 (a file per chunk of listings, written through a buffer): held, 100
/// listings' rows (~55 MB at 128 MiB slices) put that day's worker 26 MiB above the 200-listing
/// day's; set aside from an eighth, 100 x 2 days peak 301 -> 263 MiB and 50 x 8 days 267 -> 258,
/// wall 0.997 on both (docs/benchmarks.md, "Session 25"). The planner asks it with its estimates
/// (Batch::slice_output_spilled), the worker with its own count of the day's output rows.
inline bool SpillSliceOutput(bool local_scratch, uint64_t output_bytes, uint64_t slice_bytes) {
  return local_scratch && output_bytes > slice_bytes / 8;
}

struct DayPlan {
  std::string pass;
  Date day;
  Universe universe;
  std::vector<TableColumns> columns;
  std::vector<InputFile> files;
  std::vector<ListingSize> sizes;  // sorted by ListingId; empty when sized whole (whole_day)
  /// Set when the day was sized from its files' footers alone (run.size_estimates: auto): the
  /// files, whole, fit one worker (or the workers' budgets together: one wide batch), so the
  /// rows of each listing were not counted.
  std::optional<WholeDayBound> whole_day;
  std::vector<Batch> batches;  // in ListingId order
  InputStrategy strategy = InputStrategy::kDirect;
  std::string strategy_reason;
  /// Shredded days: each batch's memory adds copies of its this many largest listings (the
  /// threads a worker may gather with; PackOptions::gather_threads). 0 otherwise.
  int gather_threads = 0;
  SizeEstimateSummary size_estimates;
  uint64_t memory_budget = 0;
  std::vector<std::string> warnings;
};

std::string_view ToString(InputStrategy strategy);
std::string_view ToString(SizeSource source);

}  // namespace intraday
