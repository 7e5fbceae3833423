// The body of a worker process: compute one task (one batch of one pass for one day) and
// write its sorted output. Runs in a freshly executed process (`intraday worker TASK`), so
// everything it allocates is returned to the OS when it exits.
#pragma once

#include "common/status.h"
#include "exec/task.h"

namespace intraday {

/// Reads the task's inputs, keeps the task's listings, orders each table by (ListingId, event
/// time, input order), computes every module of the pass listing by listing, writes the output
/// (ListingId, TimeBucket, module columns; sorted) atomically, deletes spill inputs, then writes
/// the result file.
Status RunBatchTask(const Task& task);

}  // namespace intraday
