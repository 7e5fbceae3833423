// Streaming one oversize listing over time (docs/engine.md, "Streaming an oversize listing"): a
// worker whose task is a single listing too large for its budget reads the listing's rows record
// batch by record batch and computes them in time slices aligned on buckets, holding about one
// slice of rows at a time instead of the whole listing-day.
#pragma once

#include <vector>

#include "common/status.h"
#include "exec/output_schema.h"
#include "exec/task.h"
#include "io/lake.h"
#include "io/location.h"
#include "io/table_catalog.h"
#include "metrics/listing_day_computer.h"
#include "plan/day_plan.h"

namespace intraday {

/// Computes the task's single listing in time slices of about task.memory_budget / 4 of decoded
/// rows, appending its rows to `assembler` and filling result's input_rows, listing_rows and
/// time_slices. Two passes over the input: the first checks that each table's rows are in time
/// order and measures every bucket (its timeline and decoded bytes), the second computes slice by
/// slice. Returns false, having appended nothing and with result->stream_fallback saying why,
/// when the rows are not in time order: the caller then loads the listing whole.
/// Every module of `computer` must stream over time (StreamBlocker empty).
Result<bool> StreamListing(const Task& task, const Lake& lake, const Location& scratch,
                           const std::vector<TableColumns>& columns, const ListingDayComputer& computer,
                           OutputAssembler* assembler, TaskResult* result);

}  // namespace intraday
