#include "config/config_internal.h"

#include <charconv>
#include <filesystem>

#include <fmt/format.h>

#include "common/units.h"

namespace intraday::config_internal {
namespace {

// Low enough for tests on tiny lakes to exercise many batches; real budgets are GiBs.
constexpr uint64_t kMinBudget = uint64_t{64} << 10;
constexpr int64_t kMaxWorkers = 4096;

// True if `inner` is `outer` or lies under it.
bool IsWithin(const std::string& inner, const std::string& outer) {
  if (inner == outer) return true;
  const std::string prefix = outer.ends_with('/') ? outer : outer + "/";
  return inner.starts_with(prefix);
}

}  // namespace

Result<std::string> ResolveLocation(std::string_view text, const std::string& base_dir) {
  std::string value(text);
  if (value.starts_with("s3://")) {
    while (value.size() > 5 && value.back() == '/') value.pop_back();
    if (value.size() == 5 || value[5] == '/') {
      return Status::Invalid("'", text, "' names no bucket: expected s3://bucket or s3://bucket/prefix");
    }
    return value;
  }
  if (value.find("://") != std::string::npos) {
    return Status::Invalid("'", text,
                           "' has an unsupported scheme: expected a local path or s3://bucket/prefix");
  }
  std::filesystem::path path(value);
  if (path.is_relative()) path = std::filesystem::absolute(base_dir) / path;
  std::string out = path.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::optional<std::string> ReadLocation(const YamlValue& v, ConfigDiagnostics* diag,
                                        const std::string& base_dir, std::string_view what) {
  auto text = ReadNonEmptyString(v, diag, what);
  if (!text) return std::nullopt;
  auto resolved = ResolveLocation(*text, base_dir);
  if (!resolved.ok()) {
    diag->Error(v.location, v.path, resolved.status());
    return std::nullopt;
  }
  return *resolved;
}

std::optional<std::optional<int>> ReadWorkers(const YamlValue& v, ConfigDiagnostics* diag) {
  if (v.node.IsScalar()) {
    const std::string& text = v.node.Scalar();
    if (text == "auto") return std::optional<int>();
    int64_t n = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec == std::errc() && ptr == text.data() + text.size() && n >= 1 && n <= kMaxWorkers) {
      return std::optional<int>(static_cast<int>(n));
    }
  }
  diag->Error(v.location, v.path,
              fmt::format("expected 'auto' or a number of workers from 1 to {}, got {}", kMaxWorkers,
                          DescribeNode(v.node)));
  return std::nullopt;
}

std::optional<uint64_t> ReadBudget(const YamlValue& v, ConfigDiagnostics* diag) {
  auto bytes = ReadByteSize(v, diag);
  if (bytes && *bytes < kMinBudget) {
    diag->Error(v.location, v.path,
                fmt::format("{} is too small: expected at least 64KiB (a bare number means bytes)",
                            FormatBytes(*bytes)));
    return std::nullopt;
  }
  return bytes;
}

void CheckDateRange(const PipelineConfig& config, ConfigDiagnostics* diag) {
  const DatesConfig& dates = config.dates;
  if (dates.end < dates.start) {
    diag->Error(config.OriginOf("dates.end"), "dates.end",
                fmt::format("{} is before dates.start {}: expected end >= start (the range is inclusive)",
                            dates.end.ToString(), dates.start.ToString()));
    return;
  }
  if (dates.TradingDays().empty()) {
    diag->Error(config.OriginOf("dates.start"), "dates",
                fmt::format("{} .. {} holds no trading day (weekends and holidays are excluded)",
                            dates.start.ToString(), dates.end.ToString()));
  }
}

void CheckRunSettings(const PipelineConfig& config, ConfigDiagnostics* diag) {
  const RunConfig& run = config.run;
  if (!run.output.empty() && !run.scratch.empty()) {
    if (run.output == run.scratch) {
      diag->Error(
          config.OriginOf("run.scratch"), "run.scratch",
          fmt::format("'{}' is also run.output: expected a separate directory for spill files", run.scratch));
    } else if (IsWithin(run.scratch, run.output)) {
      diag->Error(config.OriginOf("run.scratch"), "run.scratch",
                  fmt::format("'{}' lies inside run.output '{}': spill files would be visible among the "
                              "outputs; expected a directory outside it",
                              run.scratch, run.output));
    } else if (IsWithin(run.output, run.scratch)) {
      diag->Error(config.OriginOf("run.output"), "run.output",
                  fmt::format("'{}' lies inside run.scratch '{}', which the run cleans up: expected a "
                              "directory outside it",
                              run.output, run.scratch));
    }
  }
  if (run.resume && run.force) {
    diag->Error(config.OriginOf("run.force"), "run.force",
                "resume and force are both true: expected at most one (resume skips completed days, force "
                "recomputes them)");
  }
}

}  // namespace intraday::config_internal
