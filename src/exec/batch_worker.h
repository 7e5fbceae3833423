// The body of a worker process: compute one task (one batch of one pass for one day) and
// write its sorted output. Runs in a freshly executed process (`intraday worker TASK`), so
// everything it allocates is returned to the OS when it exits.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <arrow/type_fwd.h>

#include "common/status.h"
#include "config/pipeline_config.h"
#include "exec/task.h"

namespace intraday {

/// Reads the task's inputs, keeps the task's listings, orders each table by (ListingId, event
/// time, input order), computes every module of the pass listing by listing, writes the output
/// (ListingId, TimeBucket, module columns; sorted) atomically, deletes spill inputs, then writes
/// the result file.
/// A task of a later pass (generic, reaggregate) goes to RunDerivedTask. The task's spill inputs,
/// output and result are URIs in `scratch` (the run's scratch: local or S3).
Status RunBatchTask(const Task& task, const Location& scratch);

/// A later pass's task: reads the task's listings from the source pass's day files, builds their
/// universe columns, runs the pass's module, writes its output (sorted by the module's group
/// keys, then TimeBucket) and the result file.
Status RunDerivedTask(const Task& task, const PipelineConfig& config, const PassConfig& pass,
                      const Location& scratch);

/// Writes record batches as an Arrow IPC file at `path` (a URI in `location`), atomically: the
/// file appears whole or not at all (Location::OpenAtomic).
Status WriteIpcAtomic(const Location& location, const std::string& path,
                      const std::shared_ptr<arrow::Schema>& schema,
                      const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches, uint64_t* bytes);

}  // namespace intraday
