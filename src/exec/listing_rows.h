// Where each listing's rows of a table are in a worker's input (spill batches, or a direct
// read's placed batch), and how a listing's rows are taken from it: as a view when they are one
// run, else gathered into buffers kept from listing to listing.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <arrow/array.h>
#include <arrow/record_batch.h>

#include "common/status.h"
#include "exec/direct_read.h"
#include "exec/task.h"
#include "io/listing_slots.h"
#include "plan/day_plan.h"

namespace intraday {

/// Where a listing's rows are: rows [row, row + length) of read batch `batch`.
struct Run {
  uint32_t batch;
  uint32_t length;
  int64_t row;
};

/// One table's rows for the batch as read (spill batches mapped from the page cache, or Parquet
/// decoded and filtered to the batch's listings), and where each listing's rows are in them, in
/// (time, input order) order. Listings are gathered one at a time, when they are computed
/// (ListingGatherer): the worker never holds a second, sorted copy of its input.
struct TableRows {
  Table table;
  std::shared_ptr<arrow::Schema> schema;  // nullptr if no input file had rows
  int time_column = -1;
  std::vector<std::vector<std::shared_ptr<arrow::ArrayData>>> columns;  // [column][read batch]
  std::vector<int64_t> batch_starts;  // first row of each read batch in the sequence of all
  std::vector<Run> runs;              // every listing's runs, listing by listing
  std::vector<size_t> first_run;      // per task listing, its first run; then runs.size()
  std::vector<int64_t> rows;          // per task listing, its rows
};

/// Gathers listings' rows of one table into buffers it keeps from listing to listing (a listing
/// of one run is a view instead). A new process's memory costs the kernel a page fault and a page
/// zeroing at first touch, so the buffers are sized once for the table's largest listing of
/// several runs and never zeroed: a page is touched
/// first by the copy into it, and only where some listing's rows reach. A gathered listing's
/// arrays point into these buffers and stay valid until the next Gather.
class ListingGatherer {
 public:
  explicit ListingGatherer(const TableRows& rows);

  /// The rows of task listing `listing` (rows.rows[listing] > 0).
  Result<std::shared_ptr<arrow::RecordBatch>> Gather(size_t listing);

 private:
  /// Memory that is never zeroed (see the class comment).
  struct RawBuffer {
    std::shared_ptr<arrow::Buffer> memory;
    int64_t planned = 0;  // the size of its first allocation: enough for the largest listing
  };
  struct Buffers {
    RawBuffer validity, values, chars;
  };

  /// At least `bytes` of `b`, allocated at the first use (for the largest listing, `planned`).
  /// Only the characters of strings grow after that, by half again at least; growing frees the
  /// old buffer first (its contents are not needed): never two at once.
  static Result<uint8_t*> Reserve(RawBuffer& b, int64_t bytes);
  static std::shared_ptr<arrow::Buffer> View(const uint8_t* data, int64_t bytes) {
    return std::make_shared<arrow::Buffer>(data, bytes);
  }

  Result<std::shared_ptr<arrow::ArrayData>> GatherColumn(size_t c, std::span<const Run> runs, int64_t n);

  const TableRows& rows_;
  std::vector<Buffers> buffers_;
  std::vector<std::vector<const uint8_t*>> bases_;  // per column, per read batch: its first value
  std::vector<bool> may_have_nulls_;                // per column: in some read batch
};

/// One table's rows for the task, from its pieces' batches in input order: where each listing's
/// rows are (TableRows).
Result<TableRows> IndexTable(const TableColumns& columns, const Task& task, const ListingSlots& slot_of,
                             std::vector<std::shared_ptr<arrow::RecordBatch>> batches);

/// A table placed by ReadTablesGrouped: where each listing's rows are. Every listing is one run
/// in time order, its block; when some listing could not be sorted in place, the table gets its
/// ListingId column back (each block holds one id) and goes through IndexTable.
Result<TableRows> IndexPlacedTable(const TableColumns& columns, const Task& task, const ListingSlots& slot_of,
                                   PlacedTable placed);

}  // namespace intraday
