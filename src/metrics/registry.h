// The list of metric modules, and how a pass's module config becomes a Module. Adding a module
// means one file in metrics/ and one line in registry.cc; the engine is not touched.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "common/status.h"
#include "config/config_loader.h"
#include "config/pipeline_config.h"
#include "config/yaml_reader.h"
#include "metrics/derived_module.h"
#include "metrics/module.h"

namespace intraday {

/// The pass settings a module may depend on (bucket length for annualisation, timeline).
struct PassShape {
  TimeGrid grid;
  TimelineKind timeline;
};

/// Builds a module from its options, reporting option errors (with key path and line) to `diag`.
/// Returns nullptr if any error was reported.
using ModuleFactory = std::unique_ptr<Module> (*)(const YamlValue& options, const PassShape& pass,
                                                  ConfigDiagnostics* diag);

struct ModuleInfo {
  std::string_view name;
  std::string_view summary;  // one line, for `intraday metrics`
  ModuleFactory create;
};

std::span<const ModuleInfo> RegisteredModules();
const ModuleInfo* FindModule(std::string_view name);

/// The pass's grid and timeline in the metrics' terms.
PassShape ShapeOf(const PassConfig& pass);

/// Creates every module of a pass, in config order. Errors name the file, line and key.
Result<std::vector<std::unique_ptr<Module>>> CreatePassModules(const PassConfig& pass,
                                                               const std::string& config_file);

/// True for a pass of a module that reads an earlier pass (generic, reaggregate). Such a pass has
/// exactly that one module (checked by LoadPipelineConfigWithModules).
bool IsDerivedPass(const PassConfig& pass);

/// Creates the module of a later pass, checking its options against the output schema of the
/// pass it reads. Errors name the file, line and key.
Result<std::unique_ptr<DerivedModule>> CreateDerivedModule(const PipelineConfig& config,
                                                           const PassConfig& pass);

/// The output schema of a pass as far as the config tells (the types of non-standard universe
/// columns of a later pass are taken as strings; the engine uses the real ones).
Result<std::shared_ptr<arrow::Schema>> ConfiguredPassSchema(const PipelineConfig& config,
                                                            const PassConfig& pass);

/// The validator the config loader calls for each module's options (config_loader.h).
Status ValidateModuleOptions(const std::string& module, const YAML::Node& options,
                             const std::string& key_path, const std::string& config_file);

/// LoadPipelineConfig with every module's options validated by the module itself: what
/// validate, plan, run and the workers all use.
Result<PipelineConfig> LoadPipelineConfigWithModules(const std::string& path);

}  // namespace intraday
