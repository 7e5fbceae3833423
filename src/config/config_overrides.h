// Command-line overrides of a loaded config (`intraday run pipeline.yaml --start ... --workers 8`).
// A flag's value passes exactly the checks the same value would pass in the file, and errors name
// the flag ("command line (--workers): run.workers: ...").
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "config/pipeline_config.h"

namespace intraday {

/// The values of the override flags, as typed; unset flags leave the file's value.
struct ConfigOverrides {
  std::optional<std::string> start;              // --start YYYY-MM-DD       -> dates.start
  std::optional<std::string> end;                // --end YYYY-MM-DD         -> dates.end
  std::optional<std::string> workers;            // --workers auto|N         -> run.workers
  std::optional<std::string> output;             // --output PATH            -> run.output
  std::optional<std::string> scratch;            // --scratch PATH           -> run.scratch
  std::optional<std::string> memory_per_worker;  // --memory-per-worker SIZE -> run.memory_per_worker
  std::optional<bool> resume;                    // --resume                 -> run.resume
  std::optional<bool> force;                     // --force                  -> run.force
  std::optional<std::string> size_estimates;     // --size-estimates MODE    -> run.size_estimates
  /// Relative --output/--scratch resolve against this directory, as a user typing them expects;
  /// empty = the current directory.
  std::string base_dir;
};

/// Applies the overrides to `config` and re-runs the checks between keys (end >= start, output
/// and scratch apart, ...). On error (every error reported, ConfigErrorsOf lists them) `config` is
/// left unchanged. Overridden keys get the flag as their origin.
Status ApplyOverrides(const ConfigOverrides& overrides, PipelineConfig* config);

}  // namespace intraday
