// Loading a pipeline YAML file into a PipelineConfig, validating it as a whole before anything
// runs. Every error found is reported (ConfigErrorsOf on the returned status lists them), each
// with file:line:column, key path and what was expected.
//
// Relative paths (data.root, run.output, run.scratch, universe.file) resolve against the
// directory of the config file, so a config means the same thing from any working directory.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "common/status.h"
#include "config/pipeline_config.h"

namespace intraday {

/// Checks one module's options. The config knows module names, not their options: the engine
/// plugs the modules' own checks in here. `options` is a map; `key_path` is
/// "passes[0].modules.l2". A plain error status is reported at the module's line; a status made
/// with ConfigErrorsStatus (e.g. from a ConfigDiagnostics over `options`) keeps each error's own
/// line and key path.
using ModuleOptionsValidator =
    std::function<Status(const std::string& module, const YAML::Node& options, const std::string& key_path)>;

struct ConfigLoadOptions {
  /// Empty: module options are kept unchecked (only `source` of generic/reaggregate is checked).
  ModuleOptionsValidator validate_module_options;
};

/// Reads and validates a config file. A file that cannot be read is an IOError naming it; an
/// invalid file is Invalid with a ConfigErrorDetail.
Result<PipelineConfig> LoadPipelineConfig(const std::string& path, const ConfigLoadOptions& options = {});

/// The same from YAML text: `file_name` is used in messages, relative paths resolve against
/// `base_dir` (made absolute against the current directory if relative).
Result<PipelineConfig> ParsePipelineConfig(std::string_view yaml_text, const std::string& file_name,
                                           const std::string& base_dir,
                                           const ConfigLoadOptions& options = {});

}  // namespace intraday
