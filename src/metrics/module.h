// metrics/: the analytics modules and the bucket semantics they share. A module declares the
// tables and columns it reads and the columns it writes, then computes one listing-day at a
// time from that listing's events in time order. Modules know nothing of files, batches or
// processes: the engine (exec/) feeds them and writes what they produce.
//
// This header is the contract between the engine and every module.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/array.h>
#include <arrow/record_batch.h>

#include "common/date.h"
#include "common/status.h"
#include "io/table_catalog.h"
#include "metrics/time_grid.h"

namespace intraday {

/// A table a module reads, and the columns it needs from it (the event-time column and
/// ListingId are always provided and need not be listed).
struct InputTable {
  Table table;
  std::vector<std::string> columns;
};

enum class ValueType { kInt64, kFloat64, kString };

/// One output column, as `intraday metrics` lists it.
struct OutputColumn {
  std::string name;
  ValueType type = ValueType::kFloat64;
  std::string unit;         // "shares", "bps", "ns", "" for dimensionless
  std::string description;  // one line
};

/// The events of one table for one listing-day, sorted by event time (ties keep input order).
/// A zero-copy view over the engine's record batch.
class ListingTable {
 public:
  ListingTable() = default;
  explicit ListingTable(std::shared_ptr<arrow::RecordBatch> batch, int time_column);

  int64_t size() const { return batch_ ? batch_->num_rows() : 0; }
  bool empty() const { return size() == 0; }
  /// Event times, int64 nanoseconds since the epoch.
  const int64_t* times() const { return times_; }

  /// Typed access to a declared column; aborts the module with an error Status if the column
  /// is missing or of another type (a bug in the module's declaration, not in the data).
  Result<const arrow::DoubleArray*> Float64(std::string_view column) const;
  Result<const arrow::Int64Array*> Int64(std::string_view column) const;
  Result<const arrow::Int32Array*> Int32(std::string_view column) const;
  Result<const arrow::StringArray*> String(std::string_view column) const;
  Result<const arrow::BooleanArray*> Bool(std::string_view column) const;
  bool has_column(std::string_view column) const;

  const std::shared_ptr<arrow::RecordBatch>& batch() const { return batch_; }

 private:
  template <typename ArrayType>
  Result<const ArrayType*> Typed(std::string_view column, arrow::Type::type id) const;

  std::shared_ptr<arrow::RecordBatch> batch_;
  const int64_t* times_ = nullptr;
};

/// A module's output for one listing-day: one row per bucket label, one column per declared
/// OutputColumn (same order). Values start null; a module sets what it computes.
class OutputBlock {
 public:
  OutputBlock(std::span<const OutputColumn> columns, size_t rows);
  // Columns are views of the block's own arrays: a move keeps them, a copy would not.
  OutputBlock(const OutputBlock&) = delete;
  OutputBlock& operator=(const OutputBlock&) = delete;
  OutputBlock(OutputBlock&&) = default;
  OutputBlock& operator=(OutputBlock&&) = default;

  size_t rows() const { return rows_; }
  // Inline: modules set a value per bucket and metric (millions a day).
  void SetFloat64(size_t column, size_t row, double value) {
    Column& c = columns_[column];
    // NaN is not a value an analyst can use: store it as null, so that outputs never mix the two.
    if (std::isnan(value)) {
      c.valid[row] = 0;
      return;
    }
    c.f64[row] = value;
    c.valid[row] = 1;
  }
  void SetInt64(size_t column, size_t row, int64_t value) {
    Column& c = columns_[column];
    c.i64[row] = value;
    c.valid[row] = 1;
  }
  void SetString(size_t column, size_t row, std::string value);
  /// Every row of an int64/float64 column to a value: the usual start for flows (0 in empty
  /// buckets, metrics.md).
  void FillInt64(size_t column, int64_t value);
  void FillFloat64(size_t column, double value);
  /// Drops the first `rows` rows (the carried buckets of a time slice, see Module).
  void DropFrontRows(size_t rows);

  /// One column's rows: values of its type (the others empty) and a byte per row, 1 if valid.
  struct Column {
    ValueType type;
    std::span<double> f64;
    std::span<int64_t> i64;
    std::vector<std::string> str;
    std::span<uint8_t> valid;
  };
  const Column& column(size_t index) const { return columns_[index]; }
  size_t num_columns() const { return columns_.size(); }

 private:
  size_t rows_;
  // Every column's numbers and validity in three arrays: a block per listing, slice and module,
  // two allocations a column made ~17% of a 200-listing sliced day's calls to malloc
  // (docs/benchmarks.md, "Session 22").
  std::vector<double> f64_;
  std::vector<int64_t> i64_;
  std::vector<uint8_t> valid_;
  std::vector<Column> columns_;
};

/// What a module sees of one listing-day.
struct ListingDay {
  int64_t listing_id = 0;
  Date day;
  /// The grid events map to (DailyGrid() for daily timelines).
  const TimeGrid* grid = nullptr;
  /// The bucket labels of the output rows, sorted and unique (the pass's timeline). Every
  /// event of every input table falls in one of them: no event is ever dropped.
  std::span<const int64_t> labels;
  /// One ListingTable per InputTable of the module, same order.
  std::vector<const ListingTable*> tables;

  /// The output row of event time t (the first label not below t's label). Fastest when called
  /// in time order.
  size_t RowOf(int64_t t) const;

 private:
  mutable size_t last_row_ = 0;  // RowOf's last answer: where the next search starts
};

class Module {
 public:
  virtual ~Module() = default;
  virtual std::string_view name() const = 0;
  virtual const std::vector<InputTable>& inputs() const = 0;
  virtual const std::vector<OutputColumn>& outputs() const = 0;
  /// True if the module needs all listings of an instrument in the same batch.
  virtual bool groups_by_instrument() const { return false; }
  /// Fills `out` (rows = listing.labels) for one listing-day. Must be deterministic and must not
  /// keep state between calls: listings may be computed in any process, in any order.
  virtual Status Compute(const ListingDay& listing, OutputBlock& out) const = 0;

  /// Streaming over time: a listing too large for one worker's memory is computed in time slices
  /// (consecutive runs of its timeline's buckets, docs/engine.md). A module that returns true
  /// promises that Compute gives every bucket of a slice exactly the values it gets when the
  /// whole listing-day is computed at once, when it is called with
  ///   - labels: the labels of the carried events' buckets (all before the slice), then the
  ///     slice's labels;
  ///   - tables: per input, the carried events of the earlier slices, then every event of the
  ///     slice's buckets, in time order;
  /// where the carried events of a table are its last event before the slice plus the rows
  /// CarriedRows selected (any superset of them, from earlier buckets, must give the same values:
  /// several modules may read one table). The rows of the carried buckets are discarded.
  /// In words: a bucket's values depend on its own events and on a state carried forward that a
  /// few earlier events determine (the book in force, the last market state, the last price).
  /// Metrics over the whole day, or state spread over many events (l3's orders), cannot stream.
  virtual bool streams_over_time() const { return false; }
  /// The rows of input `input` (index into inputs()) among `events` (in time order: the carried
  /// events of earlier slices, then the slice's) that the next slice needs besides the last one.
  /// Sorted, unique. Only called when streams_over_time().
  virtual void CarriedRows(size_t /*input*/, const ListingTable& /*events*/,
                           std::vector<int64_t>* /*rows*/) const {}
};

}  // namespace intraday
