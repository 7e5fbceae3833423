// `intraday run CONFIG`: the whole pipeline over its date range, with command-line overrides.
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "config/config_overrides.h"
#include "exec/pipeline_runner.h"
#include "metrics/registry.h"

namespace intraday::cli {
namespace {

struct RunArgs {
  std::string config;
  ConfigOverrides overrides;
  std::string progress = "auto";
};

Status Run(const RunArgs& args) {
  INTRADAY_ASSIGN_OR_RAISE(PipelineConfig config, LoadPipelineConfigWithModules(args.config));
  INTRADAY_RETURN_NOT_OK(ApplyOverrides(args.overrides, &config));
  switch (config.run.log_level) {
    case LogLevel::kDebug: spdlog::set_level(spdlog::level::debug); break;
    case LogLevel::kInfo: spdlog::set_level(spdlog::level::info); break;
    case LogLevel::kWarn: spdlog::set_level(spdlog::level::warn); break;
    case LogLevel::kError: spdlog::set_level(spdlog::level::err); break;
  }
  RunnerOptions options;
  options.interactive_progress =
      args.progress == "always" || (args.progress == "auto" && ::isatty(STDERR_FILENO));
  INTRADAY_RETURN_NOT_OK(RunPipeline(config, options));
  spdlog::info("output: {}", config.run.output);
  return Status::OK();
}

}  // namespace

CommandRunner AddRunCommand(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Run a pipeline over its date range (resumable)");
  cmd->add_option("config", args->config, "Pipeline YAML file")->required();
  auto text = [](std::optional<std::string>& target) {
    return [&target](const std::string& value) { target = value; };
  };
  auto& o = args->overrides;
  cmd->add_option_function<std::string>("--start", text(o.start), "First day (overrides dates.start)");
  cmd->add_option_function<std::string>("--end", text(o.end), "Last day, inclusive (overrides dates.end)");
  cmd->add_option_function<std::string>("--workers", text(o.workers),
                                        "Worker processes: auto or N (run.workers)");
  cmd->add_option_function<std::string>("--output", text(o.output), "Output directory (run.output)");
  cmd->add_option_function<std::string>("--scratch", text(o.scratch), "Scratch directory (run.scratch)");
  cmd->add_option_function<std::string>("--memory-per-worker", text(o.memory_per_worker),
                                        "Per-worker memory budget, e.g. 2GiB (run.memory_per_worker)");
  cmd->add_option_function<std::string>(
         "--size-estimates", text(o.size_estimates),
         "Sizes from the files or from earlier runs: scan, history or auto (run.size_estimates)")
      ->check(CLI::IsMember({"scan", "history", "auto"}));
  cmd->add_flag_function(
      "--resume", [&o](int64_t) { o.resume = true; }, "Compute only the days not yet published");
  cmd->add_flag_function(
      "--force", [&o](int64_t) { o.force = true; }, "Recompute days already published");
  cmd->add_option("--progress", args->progress, "Status line: auto (on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  return [args] { return Run(*args); };
}

}  // namespace intraday::cli
