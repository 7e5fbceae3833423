#include <cstdio>
#include <map>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "common/allocator.h"
#include "exec/memory_pages.h"
#include "io/lake.h"

int main(int argc, char** argv) {
  using namespace intraday;
  DisableTransparentHugePages();  // before Arrow's allocator maps its first region (exec/memory_pages.h)
  CLI::App app{
      "intraday: per-listing, per-time-bucket analytics from tick data (trades, L2, L3, market "
      "states) in Parquet, in bounded memory.",
      "intraday"};
  app.set_version_flag("--version",
                       std::string("intraday ") + INTRADAY_VERSION + " (" + ProcessAllocator() + ")");
  app.require_subcommand(1);
  app.footer("Run 'intraday <command> --help' for the options of a command.");

  std::map<const CLI::App*, cli::CommandRunner> runners;
  for (auto add : {cli::AddGenerateCommand, cli::AddValidateCommand, cli::AddPlanCommand, cli::AddRunCommand,
                   cli::AddMetricsCommand, cli::AddInspectCommand, cli::AddWorkerCommand}) {
    const size_t before = app.get_subcommands({}).size();
    cli::CommandRunner runner = add(app);
    runners.emplace(app.get_subcommands({})[before], std::move(runner));
  }

  CLI11_PARSE(app, argc, argv);
  // Log lines go to stderr: stdout carries what a command prints (plans, JSON, listings).
  spdlog::set_default_logger(spdlog::stderr_color_mt("intraday"));

  S3Lifetime s3;  // finalises Arrow's S3 client before exit if a command used it
  for (const auto& [sub, runner] : runners) {
    if (!sub->parsed()) continue;
    const Status status = runner();
    if (!status.ok()) {
      std::fprintf(stderr, "intraday %s: error: %s\n", sub->get_name().c_str(), status.message().c_str());
      return 1;
    }
    return 0;
  }
  return 1;
}
