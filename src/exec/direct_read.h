// A worker's direct read of lake files (docs/engine.md, "Workers", step 2): the task's inputs as
// pieces (a row group each), every row's listing slot, and each table's rows placed listing by
// listing into one batch; with what a time slice adds (docs/engine.md, "A day in time slices").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <arrow/record_batch.h>
#include <parquet/metadata.h>

#include "common/status.h"
#include "exec/task.h"
#include "io/column_pages.h"
#include "io/lake.h"
#include "io/listing_slots.h"
#include "io/table_reader.h"
#include "plan/day_plan.h"

namespace intraday {

/// A part of a table's input that one thread reads on its own: a spill file, or one row group
/// of a lake file (a direct read of a day that fits one worker reads its files with every core).
/// A task reads spill files only (shredded days) or lake files only.
struct InputPiece {
  size_t table = 0;  // index into the pass's tables
  const TaskInput* input = nullptr;
  int row_group = -1;  // lake files
  int weight = 0;      // columns read: wider pieces are started first
  // Lake files: the footer, read once per file and shared by every reader of its row groups,
  // and the columns as the table reader hands them out.
  std::shared_ptr<parquet::FileMetaData> metadata;
  std::shared_ptr<arrow::Schema> schema;
};

/// The task's inputs as pieces, in each table's input order (the order their rows are used in).
Result<std::vector<InputPiece>> SplitInputs(const Lake& lake, const std::vector<TableColumns>& columns,
                                            const Task& task);

/// Rows per decoded batch when a piece is read whole. What the Parquet reader holds per thread
/// (values and levels of every column read) grows with it: 64K rows of the 53 book columns kept
/// ~70 MiB more per worker than 16K rows, at the same speed (docs/benchmarks.md, "Session 7").
inline constexpr int64_t kPieceBatchRows = 16 * 1024;

/// A reader of `columns` of a lake piece's row group (the file's footer is not read again).
Result<std::unique_ptr<TableFileReader>> OpenPiece(const Lake& lake, const InputPiece& piece, Table table,
                                                   std::vector<std::string> columns,
                                                   int64_t batch_rows = TableReadOptions().batch_rows);

/// Int64-valued columns of a piece (ListingId, an event time in nanoseconds), a chunk of rows at a
/// time: straight from their pages for a local file (io/column_pages.h: no Arrow arrays, no
/// spaced dictionary decoding), else through the Arrow reader.
class PieceInt64Columns {
 public:
  static Result<std::unique_ptr<PieceInt64Columns>> Open(const Lake& lake, const InputPiece& piece,
                                                         Table table, std::vector<std::string> names);
  /// The next chunk's rows; 0 at the end.
  Result<int64_t> Next();
  /// Column i's values of the chunk.
  const int64_t* values(size_t i) const { return values_[i]; }
  /// Column i's validity of the chunk, a byte per row (1: a value), or nullptr: all valid.
  const uint8_t* valid(size_t i) const { return valid_[i]; }

 private:
  PieceInt64Columns() = default;

  std::string display_path_;
  std::unique_ptr<RowGroupPages> pages_;
  std::vector<std::unique_ptr<FixedColumnPages>> columns_;  // from pages, or empty
  std::unique_ptr<TableFileReader> reader_;                 // else through Arrow
  std::shared_ptr<arrow::RecordBatch> batch_;               // the Arrow reader's current batch
  std::vector<std::vector<int64_t>> buffers_;               // per column: the pages' chunk
  std::vector<std::vector<uint8_t>> valid_bytes_;
  std::vector<const int64_t*> values_;
  std::vector<const uint8_t*> valid_;
};

/// A direct read of lake files (no spill file): each table's rows as one batch in which every
/// listing's rows are contiguous, in ListingId order and in input order within a listing, so
/// that a listing is a view of it (ListingGatherer) rather than a copy. The pieces are read
/// twice: their ListingId column first (how many rows each listing has in each piece, hence
/// every row's place), then whole, in parallel, each row of a fixed-width column written
/// straight to its place (validity as a byte per row, allocated at a column's first null and
/// packed at the end: bytes written by two threads never share a byte). String and boolean
/// columns, small, are grouped per piece and concatenated listing by listing. ListingId is not
/// placed: every listing's block is known (PlacedTable::listing_start).
struct PlacedTable {
  std::shared_ptr<arrow::RecordBatch> batch;  // without ListingId; null if the table had no input
  std::vector<int64_t> listing_start;         // per task listing, its first row; then the rows
  bool in_time_order = false;  // every listing's rows in time order (sorted in place if need be)
};

/// Step 1 of a direct read: every row's slot among the task's listings (-1: not one of them),
/// kept for the placement, which then neither decodes ListingId again nor looks it up; and the
/// rows per listing, per piece. A piece whose counts are all zero is not read by PlaceTables.
struct PieceSlots {
  std::vector<std::vector<int64_t>> counts;     // [piece][slot]
  std::vector<std::vector<int32_t>> row_slots;  // [piece][row]
  /// A time slice's (RunSlicedDirectBatch): per piece, its rows decoded by an earlier slice and
  /// held, read before its file rows (row_slots index the held rows, then the file rows), or null.
  std::vector<std::shared_ptr<arrow::RecordBatch>> held;
  /// A time slice's: per piece, the rows of its row group read from the file, [first, end), or
  /// empty for every piece: all of them. A slice reads a piece up to its last row of the slice;
  /// the next one goes on from there (SliceExtras::cursors).
  std::vector<std::pair<int64_t, int64_t>> file_rows;
  /// Per piece, the rows read (held, then from the file) to hold for later slices (1), or empty:
  /// none.
  std::vector<std::vector<uint8_t>> keep;
};

Result<PieceSlots> ReadPieceSlots(const Lake& lake, const std::vector<TableColumns>& columns,
                                  const std::vector<InputPiece>& pieces, const std::vector<size_t>& order,
                                  const Task& task, const ListingSlots& slot_of, int64_t* input_rows);

/// A piece's readers where a time slice stopped reading it part way (PieceSlots::file_rows), kept
/// open for the next slice: a row group's rows of later slices, at its end in a file in time
/// order, are decoded by the slice that uses them, not decoded early and held.
struct PieceCursor {
  int64_t next_row = 0;  // the row group's first row not read yet
  std::unique_ptr<RowGroupPages> pages;
  std::vector<std::unique_ptr<FixedColumnPages>> columns;  // per table column: from its pages, or null
  std::vector<std::string> read;                           // the columns read through the Arrow reader
  std::unique_ptr<TableFileReader> reader;                 // opened at its first use
  std::shared_ptr<arrow::RecordBatch> pending;             // the reader's rows past the last read's end
};

/// A table's events carried from one time slice into the next: every listing's few rows in one
/// batch, listing after listing (a batch per listing cost an allocation per column, listing and
/// slice).
struct CarriedRows {
  std::shared_ptr<arrow::RecordBatch> rows;  // null: none
  std::vector<int64_t> start;                // per slot, its first row in `rows`; then their count
  int64_t count(size_t slot) const { return rows == nullptr ? 0 : start[slot + 1] - start[slot]; }
};

/// What a time slice (RunSlicedDirectBatch) adds to a placement.
struct SliceExtras {
  /// Per table (or empty): rows placed first in each listing's block, before its rows of the
  /// pieces (the events carried from the slice before).
  std::vector<CarriedRows> front;
  /// Out: per piece, the rows it keeps (PieceSlots::keep), or null.
  std::vector<std::shared_ptr<arrow::RecordBatch>> held;
  /// Per table, the block its fixed-width columns were placed in, reused by the next slice when
  /// nothing refers to it any more and it is large enough: its pages are touched once per run,
  /// not once per slice.
  std::vector<std::shared_ptr<arrow::Buffer>> blocks;
  /// Per piece, its readers where the last read stopped before the row group's end, or null.
  std::vector<std::unique_ptr<PieceCursor>> cursors;
  /// Readers kept for a later slice that let go of the file pages they had read (ReleaseReadPages):
  /// for the run report.
  int64_t released_readers = 0;
};

/// Steps 2 to 6 of a direct read: the rows `selected` selects, placed (PlacedTable), with a time
/// slice's extras.
Result<std::vector<PlacedTable>> PlaceTables(const Lake& lake, const std::vector<TableColumns>& columns,
                                             const std::vector<InputPiece>& pieces,
                                             const std::vector<size_t>& order, const Task& task,
                                             PieceSlots selected, int64_t* sorted_blocks,
                                             int64_t* page_column_chunks, int64_t* arrow_column_chunks,
                                             SliceExtras* slice = nullptr);

/// Steps 1 to 6 of a direct read: every row of the task's listings placed.
Result<std::vector<PlacedTable>> ReadTablesGrouped(const Lake& lake, const std::vector<TableColumns>& columns,
                                                   const std::vector<InputPiece>& pieces,
                                                   const std::vector<size_t>& order, const Task& task,
                                                   const ListingSlots& slot_of, int64_t* input_rows,
                                                   int64_t* sorted_blocks, int64_t* page_column_chunks,
                                                   int64_t* arrow_column_chunks);

}  // namespace intraday
