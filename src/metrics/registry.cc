#include "metrics/registry.h"

#include <algorithm>
#include <array>

#include "metrics/activity.h"
#include "metrics/execution.h"
#include "metrics/generic.h"
#include "metrics/l2.h"
#include "metrics/l2tw.h"
#include "metrics/l3.h"
#include "metrics/pass_schema.h"
#include "metrics/reaggregate.h"
#include "metrics/retail_imbalance.h"
#include "metrics/trade.h"

namespace intraday {
namespace {

constexpr std::array kModules{
    ModuleInfo{"activity", "event counts per table and traded volume per bucket (engine smoke test)",
               &CreateActivityModule},
    ModuleInfo{"trade", "trade volumes, counts, VWAP, OHLC, placement, volatility, TCA, flags, discrepancies",
               &CreateTradeModule},
    ModuleInfo{"retail_imbalance", "notional imbalance of retail lit trades (buy - sell) / total",
               &CreateRetailImbalanceModule},
    ModuleInfo{"l3", "order-flow counts and volumes per side and action; advanced order-flow metrics",
               &CreateL3Module},
    ModuleInfo{"execution",
               "L3 executed volume/VWAP per side, lit/dark trades per aggressor, trade imbalance",
               &CreateExecutionModule},
    ModuleInfo{"l2",
               "book state at bucket end: levels, cumulative depth, imbalances, spread, market state; OHLC",
               &CreateL2Module},
    ModuleInfo{"l2tw",
               "time-weighted book averages over the bucket (spread, mid, levels, imbalance); L2 volatility",
               &CreateL2TwModule},
};

using DerivedFactory = std::unique_ptr<DerivedModule> (*)(const YamlValue& options,
                                                          const DerivedContext& context,
                                                          ConfigDiagnostics* diag);
struct DerivedModuleInfo {
  std::string_view name;
  DerivedFactory create;
};
constexpr std::array kDerivedModules{
    DerivedModuleInfo{"generic", &CreateGenericModule},
    DerivedModuleInfo{"reaggregate", &CreateReaggregateModule},
};

const DerivedModuleInfo* FindDerivedModule(std::string_view name) {
  for (const auto& info : kDerivedModules) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

}  // namespace

std::span<const ModuleInfo> RegisteredModules() { return kModules; }

const ModuleInfo* FindModule(std::string_view name) {
  for (const auto& info : kModules) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

PassShape ShapeOf(const PassConfig& pass) {
  if (pass.timeline == Timeline::kDaily) return PassShape{DailyGrid(), TimelineKind::kDaily};
  const auto anchor = pass.anchor == Anchor::kEnd ? BucketAnchor::kEnd : BucketAnchor::kStart;
  const auto closed = pass.closed == Closed::kRight ? BucketClosed::kRight : BucketClosed::kLeft;
  const auto timeline = pass.timeline == Timeline::kDense ? TimelineKind::kDense : TimelineKind::kSparse;
  return PassShape{TimeGrid(pass.bucket_ns, anchor, closed), timeline};
}

namespace {

std::unique_ptr<Module> Create(const ModuleConfig& config, const PassShape& shape, ConfigDiagnostics* diag) {
  const ModuleInfo* info = FindModule(config.name);
  YamlValue options{config.options, config.key_path, config.location};
  if (info == nullptr) {
    std::vector<std::string_view> names;
    for (const auto& m : kModules) names.push_back(m.name);
    diag->Error(
        config.location, config.key_path,
        "module '" + config.name + "' is not available in this build" + SuggestionSuffix(config.name, names));
    return nullptr;
  }
  return info->create(options, shape, diag);
}

}  // namespace

Result<std::vector<std::unique_ptr<Module>>> CreatePassModules(const PassConfig& pass,
                                                               const std::string& config_file) {
  ConfigDiagnostics diag(config_file);
  const PassShape shape = ShapeOf(pass);
  std::vector<std::unique_ptr<Module>> modules;
  for (const auto& config : pass.modules) {
    auto module = Create(config, shape, &diag);
    if (module != nullptr) modules.push_back(std::move(module));
  }
  INTRADAY_RETURN_NOT_OK(diag.ToStatus());
  return modules;
}

bool IsDerivedPass(const PassConfig& pass) {
  return std::any_of(pass.modules.begin(), pass.modules.end(),
                     [](const ModuleConfig& m) { return ReadsEarlierPass(m.name); });
}

Result<std::shared_ptr<arrow::Schema>> ConfiguredPassSchema(const PipelineConfig& config,
                                                            const PassConfig& pass) {
  if (!IsDerivedPass(pass)) {
    INTRADAY_ASSIGN_OR_RAISE(auto modules, CreatePassModules(pass, config.source_file));
    return PassOutputSchema(modules);
  }
  INTRADAY_ASSIGN_OR_RAISE(auto module, CreateDerivedModule(config, pass));
  return module->OutputSchema(*ConfiguredUniverseSchema(module->universe_columns()));
}

Result<std::unique_ptr<DerivedModule>> CreateDerivedModule(const PipelineConfig& config,
                                                           const PassConfig& pass) {
  ConfigDiagnostics diag(config.source_file);
  const ModuleConfig& module = pass.modules.front();
  const DerivedModuleInfo* info = FindDerivedModule(module.name);
  if (pass.modules.size() != 1 || info == nullptr) {
    diag.Error(pass.modules.front().location, pass.modules.front().key_path,
               "a pass that reads an earlier pass (generic, reaggregate) has exactly one module");
    return diag.ToStatus();
  }
  if (module.source.empty()) {
    diag.Error(module.location, module.key_path, "missing required key 'source' (the earlier pass it reads)");
    return diag.ToStatus();
  }
  const PassConfig* source = config.FindPass(module.source);
  if (source == nullptr) return Status::Invalid("no pass named '", module.source, "'");
  DerivedContext context{module.source,
                         ShapeOf(pass).grid,
                         ShapeOf(*source).grid,
                         source->timeline == Timeline::kDaily,
                         nullptr,
                         {}};
  auto source_schema = ConfiguredPassSchema(config, *source);
  if (!source_schema.ok()) {
    diag.Error(
        module.location, module.key_path,
        "cannot know the columns of pass '" + module.source + "': " + source_schema.status().message());
    return diag.ToStatus();
  }
  context.source_schema = *source_schema;
  if (!IsDerivedPass(*source)) {
    // Column descriptions by output name (clashing names are prefixed as in the schema).
    auto modules = CreatePassModules(*source, config.source_file);
    if (modules.ok()) {
      size_t field = 2;
      for (const auto& m : *modules) {
        for (const auto& c : m->outputs()) {
          OutputColumn described = c;
          described.name = context.source_schema->field(static_cast<int>(field++))->name();
          context.source_columns.push_back(std::move(described));
        }
      }
    }
  }
  YamlValue options{module.options, module.key_path, module.location};
  auto created = info->create(options, context, &diag);
  INTRADAY_RETURN_NOT_OK(diag.ToStatus());
  return created;
}

Status ValidateModuleOptions(const std::string& module, const YAML::Node& options,
                             const std::string& key_path, const std::string& config_file) {
  // A later pass's module is checked once the whole config is loaded (it needs the source pass).
  if (FindDerivedModule(module) != nullptr) return Status::OK();
  ConfigDiagnostics diag(config_file);
  ModuleConfig config;
  config.name = module;
  config.options = options;
  config.key_path = key_path;
  config.location = diag.LocationOf(options);
  // The grid does not change which options are valid.
  (void)Create(config,
               PassShape{TimeGrid(60 * kNanosPerSecond, BucketAnchor::kEnd, BucketClosed::kRight),
                         TimelineKind::kDense},
               &diag);
  return diag.ToStatus();
}

Result<PipelineConfig> LoadPipelineConfigWithModules(const std::string& path) {
  ConfigLoadOptions options;
  options.validate_module_options = [path](const std::string& module, const YAML::Node& node,
                                           const std::string& key_path) {
    return ValidateModuleOptions(module, node, key_path, path);
  };
  INTRADAY_ASSIGN_OR_RAISE(PipelineConfig config, LoadPipelineConfig(path, options));
  for (const auto& pass : config.passes) {
    if (IsDerivedPass(pass)) INTRADAY_RETURN_NOT_OK(CreateDerivedModule(config, pass).status());
  }
  return config;
}

}  // namespace intraday
