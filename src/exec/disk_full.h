// A run stopped by a full disk (product.md: "disk full in scratch or output: the run stops
// cleanly and --resume continues later"). Wherever the write failed, the run ends with one error
// that says "no space left on device", which location is full (run.scratch or run.output) and
// the path that could not be written, and how to go on. A full disk is not retried: redoing the
// batch would fill it again, and stopping at once frees the day's scratch sooner.
#pragma once

#include "common/io_errors.h"
#include "common/status.h"
#include "config/pipeline_config.h"

namespace intraday {

/// `cause` (IsDiskFull) restated for the user: "no space left on device in run.scratch (DIR):
/// <cause naming the path>. ..." with what stays valid and how to resume.
Status DiskFullStop(const Status& cause, const RunConfig& run);

}  // namespace intraday
