// `plan`, `run` and `metrics`: their options are declared here; the engine (issue 3) and the
// metric modules (issue 4) provide what they do. Until then they fail with a clear message.
#include <memory>
#include <string>

#include "cli/commands.h"

namespace intraday::cli {
namespace {

struct EngineArgs {
  std::string config;
  std::string day;
  std::string module;
};

CommandRunner NotYetAvailable(std::shared_ptr<EngineArgs> args, const char* what) {
  return [args, what] { return Status::NotImplemented(what, " is not available in this build yet"); };
}

}  // namespace

CommandRunner AddPlanCommand(CLI::App& app) {
  auto args = std::make_shared<EngineArgs>();
  auto* cmd = app.add_subcommand("plan", "Print a day's sizes, batches and memory budget (no compute)");
  cmd->add_option("config", args->config, "Pipeline YAML file")->required();
  cmd->add_option("--day", args->day, "Trading day, YYYY-MM-DD");
  return NotYetAvailable(args, "'plan'");
}

CommandRunner AddRunCommand(CLI::App& app) {
  auto args = std::make_shared<EngineArgs>();
  auto* cmd = app.add_subcommand("run", "Run a pipeline over its date range (resumable)");
  cmd->add_option("config", args->config, "Pipeline YAML file")->required();
  return NotYetAvailable(args, "'run'");
}

CommandRunner AddMetricsCommand(CLI::App& app) {
  auto args = std::make_shared<EngineArgs>();
  auto* cmd = app.add_subcommand("metrics", "List every output column of a module or a pipeline");
  cmd->add_option("--module", args->module, "Module name");
  return NotYetAvailable(args, "'metrics'");
}

}  // namespace intraday::cli
