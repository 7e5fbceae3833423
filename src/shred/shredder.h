// shred/: cutting a day's input files into per-batch spill files, so that each worker reads
// only its own listings. Each input file is streamed in bounded record batches (only the
// pass's columns), each row routed through the ListingId -> batch map (rows of listings outside
// the universe dropped), and appended to that batch's spill file. Memory is bounded by the
// configured buffer, never by file size; files are shredded in parallel.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "io/lake.h"
#include "io/location.h"
#include "plan/day_plan.h"

namespace intraday {

struct SpillFile {
  int batch = 0;
  Table table;
  std::string path;  // Arrow IPC file: a URI in the scratch location
  int64_t rows = 0;
  uint64_t bytes = 0;
};

struct ShredRequest {
  const Lake* lake = nullptr;
  const DayPlan* plan = nullptr;
  /// The run's scratch (local or S3), and in it the directory private to one run, pass and day:
  /// scratch/<run>/<pass>/<day>/spill. Created if missing.
  const Location* scratch = nullptr;
  std::string spill_dir;
  /// Bytes of routed rows held in memory before they are written out, over all threads.
  uint64_t buffer_bytes = 256ull << 20;
  int threads = 2;
  /// Polled between record batches: true stops the shredding with Cancelled (SIGTERM while a
  /// day is shredded ahead of its turn). Empty = never.
  std::function<bool()> stop_requested;
};

struct ShredResult {
  std::vector<SpillFile> files;  // ordered by (batch, input file order)
  int64_t rows_read = 0;
  int64_t rows_routed = 0;  // rows of universe listings
  uint64_t bytes_written = 0;
  /// Column chunks (a column of a row group) read straight from their pages (io/column_pages.h),
  /// and those read through the Arrow reader.
  int64_t page_column_chunks = 0;
  int64_t arrow_column_chunks = 0;
};

/// Shreds every input file of the plan. Spill files are named
/// spill_dir/batch-<id>/<table>-<MIC>.arrow. On error, the files written so far stay for the
/// caller to remove with the spill directory.
Result<ShredResult> ShredDay(const ShredRequest& request);

}  // namespace intraday
