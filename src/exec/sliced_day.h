// A direct batch computed in time slices (docs/engine.md, "A day in time slices"): a day's rows
// placed and computed slice by slice, the same cuts for every listing, each listing's state
// carried from one slice into the next.
#pragma once

#include <memory>
#include <vector>

#include <arrow/type_fwd.h>

#include "common/status.h"
#include "exec/batch_output.h"
#include "exec/direct_read.h"
#include "exec/task.h"
#include "metrics/listing_day_computer.h"

namespace intraday {

/// Where a day in time slices is cut (RunSlicedDirectBatch, step 2): its buckets' decoded bytes in
/// time order, into as few slices of at most `slice_bytes` as that allows (a bucket larger than
/// that is a slice of its own), of about equal bytes: each cut at the bucket that brings its
/// slice closest to the bytes left divided by the slices left. Per slice but the last, one past
/// the index of its last bucket; empty: one slice.
std::vector<size_t> EvenSliceCuts(const std::vector<double>& bucket_bytes, double slice_bytes);

/// A direct batch computed in time slices (Task::time_slice_bytes; docs/engine.md "A day in time
/// slices"): the day's rows are placed and computed slice by slice, each slice the rows of the
/// buckets between two cuts common to every listing, with SlicedListingDay carrying each
/// listing's state from one slice into the next. Returns false, having computed nothing, where
/// the day makes one slice or its buckets cannot be numbered; the caller then computes the batch
/// whole.
Result<bool> RunSlicedDirectBatch(const Task& task, const Lake& lake, const Location& scratch,
                                  const std::vector<TableColumns>& columns,
                                  const std::vector<InputPiece>& pieces, const std::vector<size_t>& order,
                                  const ListingDayComputer& computer,
                                  const std::shared_ptr<arrow::Schema>& schema,
                                  std::unique_ptr<OutputChunks>* output, TaskResult* result);

}  // namespace intraday
