// cli/: the `intraday` command line. Each subcommand lives in its own cmd_*.cc: it declares
// its options on CLI11 and returns the function that runs it. main.cc only dispatches and turns
// a failed Status into a message and an exit code.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "common/status.h"

namespace intraday::cli {

/// Runs a parsed subcommand. A non-OK status is printed as "intraday <cmd>: error: <message>".
using CommandRunner = std::function<Status()>;

CommandRunner AddGenerateCommand(CLI::App& app);
CommandRunner AddValidateCommand(CLI::App& app);
CommandRunner AddPlanCommand(CLI::App& app);
CommandRunner AddRunCommand(CLI::App& app);
CommandRunner AddMetricsCommand(CLI::App& app);
CommandRunner AddInspectCommand(CLI::App& app);
CommandRunner AddWorkerCommand(CLI::App& app);

}  // namespace intraday::cli
