// Checks and helpers shared by the loader and the command-line overrides, so that a value set
// by a flag passes exactly the checks it would pass in the file.
#pragma once

#include <string>
#include <string_view>

#include "config/pipeline_config.h"
#include "config/yaml_reader.h"

namespace intraday::config_internal {

/// A location value (data.root, run.output, ...): "s3://bucket/prefix" is kept (without a
/// trailing slash); a local path is made absolute against `base_dir` and normalised. Other URI
/// schemes are errors.
Result<std::string> ResolveLocation(std::string_view text, const std::string& base_dir);

/// Reads a location value and resolves it; reports and returns nullopt on error.
std::optional<std::string> ReadLocation(const YamlValue& v, ConfigDiagnostics* diag,
                                        const std::string& base_dir, std::string_view what);

/// Reads run.workers: "auto" (-> std::optional<int>{}) or a positive integer.
/// The outer optional is empty on error.
std::optional<std::optional<int>> ReadWorkers(const YamlValue& v, ConfigDiagnostics* diag);

/// Reads a byte size of at least 1 MiB (memory_per_worker, shred_buffer).
std::optional<uint64_t> ReadBudget(const YamlValue& v, ConfigDiagnostics* diag);

/// dates.end >= dates.start, and at least one trading day in the range.
void CheckDateRange(const PipelineConfig& config, ConfigDiagnostics* diag);

/// run.output and run.scratch distinct and not nested; not both resume and force.
void CheckRunSettings(const PipelineConfig& config, ConfigDiagnostics* diag);

}  // namespace intraday::config_internal
