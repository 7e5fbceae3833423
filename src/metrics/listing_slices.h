// One listing-day computed in time slices (Module::streams_over_time, docs/engine.md "Streaming
// an oversize listing"): the caller hands in the events of consecutive runs of the timeline's
// buckets; the few events each table carries from one slice into the next are kept here, so
// that the modules see the state in force when the slice starts. The slices' rows equal those
// of ListingDayComputer::Compute on the whole listing-day.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <arrow/record_batch.h>

#include "common/date.h"
#include "common/status.h"
#include "metrics/listing_day_computer.h"

namespace intraday {

class SlicedListingDay {
 public:
  /// `labels`: the listing-day's whole timeline (ListingDayComputer::Timeline). Every module of
  /// `computer` must stream over time (StreamBlocker() empty).
  SlicedListingDay(const ListingDayComputer& computer, int64_t listing_id, Date day,
                   std::vector<int64_t> labels);

  const std::vector<int64_t>& labels() const { return labels_; }

  /// Computes the rows of labels()[first, last). `events[i]`: the events of computer.tables()[i]
  /// whose bucket is one of those labels, in time order, as record batches of one schema (may
  /// be empty; ignored for tables no module reads). Slices must come in order, each starting
  /// where the previous one ended. `blocks`: one per module, last - first rows.
  Status ComputeSlice(size_t first, size_t last, const std::vector<arrow::RecordBatchVector>& events,
                      std::vector<OutputBlock>* blocks);

  /// As ComputeSlice, for a caller that places the carried events itself: `views[i]`, for every
  /// table some module reads, holds carried(i)'s rows first, then the slice's events (an empty
  /// view if both are empty).
  Status ComputeSliceOnViews(size_t first, size_t last, std::vector<ListingTable> views,
                             std::vector<OutputBlock>* blocks);

  /// As ComputeSliceOnViews, for a caller that also keeps the carried events itself (one batch
  /// for many listings rather than a copy per listing): `carry[i]` gets the rows of views[i] the
  /// next slice needs (sorted), and the next call's views[i] must start with exactly those rows;
  /// carried(i) stays null. A listing-day takes this form or the other for all its slices.
  Status ComputeSliceOnViews(size_t first, size_t last, std::vector<ListingTable> views,
                             std::vector<OutputBlock>* blocks, std::vector<std::vector<int64_t>>* carry);

  /// The events of computer.tables()[i] carried into the next slice (null: none, or kept by the
  /// caller).
  const std::shared_ptr<arrow::RecordBatch>& carried(size_t i) const { return carried_[i]; }
  /// How many events of computer.tables()[i] the next slice's views start with.
  int64_t carried_count(size_t i) const { return carried_count_[i]; }

  /// Rows carried into the next slice, over all tables (for tests and the run report).
  int64_t carried_rows() const;

 private:
  const ListingDayComputer& computer_;
  int64_t listing_id_;
  Date day_;
  std::vector<int64_t> labels_;
  size_t next_ = 0;  // the first label of the next slice
  /// Per table: the events carried from earlier slices (own buffers, a few rows), or null.
  std::vector<std::shared_ptr<arrow::RecordBatch>> carried_;
  std::vector<int64_t> carried_count_;  // per table: their rows (kept here or by the caller)
};

/// Copies rows `rows` (sorted) of `batch` into a new record batch that shares no buffer with it.
Result<std::shared_ptr<arrow::RecordBatch>> CopyRows(const arrow::RecordBatch& batch,
                                                     const std::vector<int64_t>& rows);

/// Column `column` of rows rows[k] (sorted) of batches[k], k after k, copied into one array
/// that shares no buffer with them: CopyRows for one batch, or many listings' carried rows at
/// once. The batches share one schema; a null one (with no rows) is skipped.
Result<std::shared_ptr<arrow::Array>> CopyColumnRows(const std::vector<const arrow::RecordBatch*>& batches,
                                                     const std::vector<std::vector<int64_t>>& rows,
                                                     int column);

}  // namespace intraday
