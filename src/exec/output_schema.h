// The assembly of modules' per-listing OutputBlocks into Arrow record batches.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <arrow/builder.h>
#include <arrow/record_batch.h>

#include "common/status.h"
#include "metrics/module.h"
#include "metrics/pass_schema.h"

namespace intraday {

/// The value types of a pass's output columns but the first two (ListingId, TimeBucket).
std::vector<ValueType> MetricValueTypes(const arrow::Schema& schema);

/// One output column's rows, wherever they are kept: an OutputBlock's column, or the same
/// values set aside in a file (exec/slice_output.h). Values of its type and a byte per row, 1
/// if valid; a string column's values either as strings or as end offsets into their chars.
struct ColumnRows {
  ValueType type = ValueType::kFloat64;
  const uint8_t* values = nullptr;        // int64 or float64: 8 bytes a row
  const uint8_t* valid = nullptr;         // null: every row valid
  const std::string* strings = nullptr;   // a string column in memory
  const uint32_t* string_ends = nullptr;  // or from a file: the end of each row's chars
  const char* chars = nullptr;

  /// The rows of a block's column.
  static ColumnRows Of(const OutputBlock::Column& column);
  /// Of every column of `blocks`, in order.
  static std::vector<ColumnRows> Of(const std::vector<OutputBlock>& blocks);
};

/// Collects rows listing by listing into record batches of `batch_rows` rows (the first of
/// `first_batch_rows`, if given; the last shorter), a listing's rows cut where a batch is full.
/// Values are copied as bytes and validity packed to bits straight from the modules' blocks: an
/// Arrow builder's append was ~3% of a sliced 200-listing day (docs/benchmarks.md, "Session 27").
/// Output rows are wide (one column per metric: ~150 for trade + l2 + l2tw + l3), and the driver
/// holds one or two of these batches when it writes the day: 16K rows are ~20 MiB of them.
class OutputAssembler {
 public:
  static constexpr int64_t kBatchRows = 16 * 1024;

  explicit OutputAssembler(std::shared_ptr<arrow::Schema> schema, int64_t batch_rows = kBatchRows,
                           int64_t first_batch_rows = 0);
  ~OutputAssembler();
  OutputAssembler(const OutputAssembler&) = delete;
  OutputAssembler& operator=(const OutputAssembler&) = delete;

  /// One listing's rows: its labels and one block per module (same order as the modules). Blocks
  /// that do not match the schema are refused whole.
  Status Append(int64_t listing_id, std::span<const int64_t> labels, const std::vector<OutputBlock>& blocks);
  /// The same from its columns' rows (every column but ListingId and TimeBucket, schema order):
  /// its rows [begin, end) of `labels` and `columns`, or all of them.
  Status Append(int64_t listing_id, std::span<const int64_t> labels, std::span<const ColumnRows> columns,
                int64_t begin = 0, int64_t end = -1);
  Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> Finish();

  /// Rows still to come, where the caller knows them: buffers are then sized once, not grown.
  void ExpectRows(int64_t rows) { expected_rows_ = rows; }

 private:
  class Column;
  Status Flush();

  std::shared_ptr<arrow::Schema> schema_;
  int64_t batch_rows_;
  int64_t capacity_;  // rows of the batch being filled
  std::vector<std::unique_ptr<Column>> columns_;
  std::vector<ValueType> types_;  // of every column but the first two
  int64_t pending_rows_ = 0;
  int64_t expected_rows_ = 0;  // rows still to come, if known
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches_;
};

}  // namespace intraday
