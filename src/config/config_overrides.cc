#include "config/config_overrides.h"

#include <filesystem>

#include "config/config_internal.h"
#include "config/yaml_reader.h"

namespace intraday {
namespace {

// A flag's value as the readers see a value of the file: a scalar, with the flag as location.
YamlValue FlagValue(const std::string& flag, const std::string& key_path, const std::string& text) {
  return YamlValue{YAML::Node(text), key_path, SourceLocation{"command line (" + flag + ")"}};
}

}  // namespace

Status ApplyOverrides(const ConfigOverrides& overrides, PipelineConfig* config) {
  PipelineConfig out = *config;
  ConfigDiagnostics diag(config->source_file);
  const std::string base_dir =
      overrides.base_dir.empty() ? std::filesystem::current_path().string() : overrides.base_dir;

  // Sets `target` from the flag if given and valid, and records the flag as the value's origin.
  auto apply = [&](const std::optional<std::string>& flag_value, const char* flag, const char* key_path,
                   auto read, auto* target) {
    if (!flag_value) return;
    const YamlValue v = FlagValue(flag, key_path, *flag_value);
    if (auto value = read(v)) {
      *target = std::move(*value);
      out.origins[key_path] = v.location;
    }
  };
  auto date = [&](const YamlValue& v) { return ReadDate(v, &diag); };
  auto location = [&](const YamlValue& v) {
    return config_internal::ReadLocation(v, &diag, base_dir, "a local path or s3://bucket/prefix");
  };
  apply(overrides.start, "--start", "dates.start", date, &out.dates.start);
  apply(overrides.end, "--end", "dates.end", date, &out.dates.end);
  apply(
      overrides.workers, "--workers", "run.workers",
      [&](const YamlValue& v) { return config_internal::ReadWorkers(v, &diag); }, &out.run.workers);
  apply(overrides.output, "--output", "run.output", location, &out.run.output);
  apply(overrides.scratch, "--scratch", "run.scratch", location, &out.run.scratch);
  apply(
      overrides.memory_per_worker, "--memory-per-worker", "run.memory_per_worker",
      [&](const YamlValue& v) { return config_internal::ReadBudget(v, &diag); }, &out.run.memory_per_worker);
  apply(
      overrides.size_estimates, "--size-estimates", "run.size_estimates",
      [&](const YamlValue& v) -> std::optional<SizeEstimates> {
        if (auto i = ReadChoice(v, &diag, kSizeEstimatesNames)) return static_cast<SizeEstimates>(*i);
        return std::nullopt;
      },
      &out.run.size_estimates);
  for (auto [flag_value, flag, key_path, target] :
       {std::tuple{&overrides.resume, "--resume", "run.resume", &out.run.resume},
        std::tuple{&overrides.force, "--force", "run.force", &out.run.force}}) {
    if (!*flag_value) continue;
    *target = **flag_value;
    out.origins[key_path] = SourceLocation{std::string("command line (") + flag + ")"};
  }
  if (diag.error_count() == 0) {
    config_internal::CheckDateRange(out, &diag);
    config_internal::CheckRunSettings(out, &diag);
  }
  INTRADAY_RETURN_NOT_OK(diag.ToStatus());
  *config = std::move(out);
  return Status::OK();
}

}  // namespace intraday
