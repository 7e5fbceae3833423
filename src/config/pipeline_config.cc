#include "config/pipeline_config.h"

#include <algorithm>
#include <array>

namespace intraday {
namespace {

// The module names a config may use (metrics.md, plus `activity`). Whether this build implements
// a module, and which options it takes, is the module registry's call (metrics/registry.h),
// through ConfigLoadOptions::validate_module_options.
constexpr std::array<std::string_view, 9> kModules{
    "trade", "retail_imbalance", "l2", "l2tw", "l3", "execution", "generic", "reaggregate", "activity"};

}  // namespace

std::span<const std::string_view> KnownModules() { return kModules; }

bool ReadsEarlierPass(std::string_view module) { return module == "generic" || module == "reaggregate"; }

bool DatesConfig::IsTradingDay(Date day) const {
  return !day.is_weekend() && !std::binary_search(holidays.begin(), holidays.end(), day);
}

std::vector<Date> DatesConfig::TradingDays() const {
  std::vector<Date> days;
  for (Date day = start; day <= end; day = day.next()) {
    if (IsTradingDay(day)) days.push_back(day);
  }
  return days;
}

const ModuleConfig* PassConfig::FindModule(std::string_view module) const {
  for (const auto& m : modules) {
    if (m.name == module) return &m;
  }
  return nullptr;
}

const PassConfig* PipelineConfig::FindPass(std::string_view pass) const {
  for (const auto& p : passes) {
    if (p.name == pass) return &p;
  }
  return nullptr;
}

SourceLocation PipelineConfig::OriginOf(const std::string& key_path) const {
  auto it = origins.find(key_path);
  return it != origins.end() ? it->second : SourceLocation{source_file};
}

std::string_view ToString(LogLevel level) { return kLogLevelNames[static_cast<size_t>(level)]; }
std::string_view ToString(SizeEstimates mode) { return kSizeEstimatesNames[static_cast<size_t>(mode)]; }
std::string_view ToString(Anchor anchor) { return kAnchorNames[static_cast<size_t>(anchor)]; }
std::string_view ToString(Closed closed) { return kClosedNames[static_cast<size_t>(closed)]; }
std::string_view ToString(Timeline timeline) { return kTimelineNames[static_cast<size_t>(timeline)]; }

}  // namespace intraday
