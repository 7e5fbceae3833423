// `intraday metrics`: every output column a module (with given options) or a whole pipeline
// would produce, with its type, unit and one-line definition. Computes nothing.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "cli/commands.h"
#include "exec/output_schema.h"
#include "metrics/registry.h"

namespace intraday::cli {
namespace {

struct MetricsArgs {
  std::string module;
  std::string options = "{}";
  std::string config;
};

std::string_view TypeName(ValueType type) {
  switch (type) {
    case ValueType::kInt64: return "int64";
    case ValueType::kFloat64: return "float64";
    case ValueType::kString: return "string";
  }
  return "?";
}

/// `names`: the columns' names in the output (a pass may prefix clashing names), or empty for
/// the module's own names.
void PrintColumns(const Module& module, std::span<const std::string> names = {}) {
  fmt::print("module {}\n", module.name());
  for (size_t i = 0; i < module.outputs().size(); ++i) {
    const auto& column = module.outputs()[i];
    fmt::print("  {:<40} {:<8} {:<10} {}\n", names.empty() ? column.name : names[i], TypeName(column.type),
               column.unit.empty() ? "-" : column.unit, column.description);
  }
}

Status ListModule(const MetricsArgs& args) {
  ConfigDiagnostics diag("--options");
  YAML::Node options;
  try {
    options = YAML::Load(args.options);
  } catch (const YAML::Exception& e) {
    return Status::Invalid("--options is not YAML: ", e.what());
  }
  const ModuleInfo* info = FindModule(args.module);
  if (info == nullptr) {
    std::vector<std::string_view> names;
    for (const auto& m : RegisteredModules()) names.push_back(m.name);
    return Status::Invalid("unknown module '", args.module, "'", SuggestionSuffix(args.module, names));
  }
  PassShape shape{TimeGrid(60 * kNanosPerSecond, BucketAnchor::kEnd, BucketClosed::kRight),
                  TimelineKind::kDense};
  auto module = info->create(YamlValue{options, "options", {}}, shape, &diag);
  INTRADAY_RETURN_NOT_OK(diag.ToStatus());
  PrintColumns(*module);
  return Status::OK();
}

Status ListPipeline(const MetricsArgs& args) {
  INTRADAY_ASSIGN_OR_RAISE(PipelineConfig config, LoadPipelineConfigWithModules(args.config));
  for (const auto& pass : config.passes) {
    if (IsDerivedPass(pass)) {
      INTRADAY_ASSIGN_OR_RAISE(auto schema, ConfiguredPassSchema(config, pass));
      fmt::print("pass {}: {} <- pass {}; columns:\n", pass.name, pass.modules.front().name,
                 pass.modules.front().source);
      for (const auto& field : schema->fields())
        fmt::print("  {:<40} {}\n", field->name(), field->type()->ToString());
      continue;
    }
    fmt::print("pass {}: ListingId int64, TimeBucket timestamp[ns] (bucket label, UTC), then:\n", pass.name);
    INTRADAY_ASSIGN_OR_RAISE(auto modules, CreatePassModules(pass, config.source_file));
    INTRADAY_ASSIGN_OR_RAISE(auto schema, PassOutputSchema(modules));
    int field = 2;  // after ListingId, TimeBucket
    for (const auto& module : modules) {
      std::vector<std::string> names;
      for (size_t i = 0; i < module->outputs().size(); ++i) names.push_back(schema->field(field++)->name());
      PrintColumns(*module, names);
    }
  }
  return Status::OK();
}

Status ListModules() {
  fmt::print("Modules (intraday metrics --module NAME lists a module's columns):\n");
  for (const auto& info : RegisteredModules()) fmt::print("  {:<18} {}\n", info.name, info.summary);
  fmt::print("Modules of later passes (they read an earlier pass; options in docs/metrics/<name>.md):\n");
  fmt::print(
      "  {:<18} {}\n", "generic",
      "resample, group by universe columns, aggregate, indicators (SMA, EMA, RSI, MACD, Bollinger, ...)");
  fmt::print("  {:<18} {}\n", "reaggregate",
             "listings -> groups (index, sector): sum flows, weight prices, last states");
  return Status::OK();
}

}  // namespace

CommandRunner AddMetricsCommand(CLI::App& app) {
  auto args = std::make_shared<MetricsArgs>();
  auto* cmd = app.add_subcommand("metrics", "List the output columns of a module or of a pipeline's passes");
  cmd->add_option("--module", args->module, "A module: its columns with default (or --options) options");
  cmd->add_option("--options", args->options, "The module's options as inline YAML, e.g. '{levels: 5}'");
  cmd->add_option("--config", args->config, "A pipeline YAML file: every pass's columns");
  return [args] {
    if (!args->config.empty()) return ListPipeline(*args);
    if (!args->module.empty()) return ListModule(*args);
    return ListModules();
  };
}

}  // namespace intraday::cli
