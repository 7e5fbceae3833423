// The driver of `intraday run`: for each pass and each trading day, plan, shred if needed, run
// the batches in fresh worker processes (at most `workers` at once, with retries and splits),
// write the day's file, publish it atomically and record it. It stays small: it plans, launches,
// waits and records; all heavy work happens in workers.
#pragma once

#include <string>

#include "common/status.h"
#include "config/pipeline_config.h"

namespace intraday {

struct RunnerOptions {
  /// Show a redrawn status line (stderr is a terminal) instead of log lines.
  bool interactive_progress = false;
};

/// Default worker count: min(cores, memory / memory_per_worker), at least 1, with the cores and
/// the memory this process may use (common/machine.h: its CPU affinity and cgroup limits).
int DefaultWorkerCount(uint64_t memory_per_worker);

/// The run's workers: `run.workers`, or DefaultWorkerCount. `intraday plan` plans with it too.
inline int WorkerCount(const RunConfig& run) {
  return run.workers.value_or(DefaultWorkerCount(run.memory_per_worker));
}

/// Runs the pipeline. Returns Cancelled after SIGINT/SIGTERM (finished days stay published,
/// `--resume` continues), an error naming the file/batch on failure.
Status RunPipeline(const PipelineConfig& config, const RunnerOptions& options);

}  // namespace intraday
