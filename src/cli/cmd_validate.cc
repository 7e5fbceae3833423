// `intraday validate FILE`: loads a pipeline config with every check of config/ (keys, types,
// values, passes, sources) and prints either a short summary or every error with its line.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "common/units.h"
#include "config/config_json.h"
#include "config/config_loader.h"
#include "metrics/registry.h"

namespace intraday::cli {
namespace {

struct ValidateArgs {
  std::string config;
};

std::string PassSummary(const PassConfig& pass) {
  std::vector<std::string> modules;
  for (const auto& m : pass.modules)
    modules.push_back(m.source.empty() ? m.name : m.name + " <- " + m.source);
  return fmt::format("{} ({} {}/{}, {}): {}", pass.name, FormatDuration(pass.bucket_ns),
                     ToString(pass.anchor), ToString(pass.closed), ToString(pass.timeline),
                     fmt::join(modules, ", "));
}

std::string UniverseSummary(const UniverseConfig& u) {
  std::vector<std::string> parts;
  if (!u.mics.empty()) parts.push_back(fmt::format("mics {}", fmt::join(u.mics, ", ")));
  if (!u.listings.empty()) parts.push_back(fmt::format("{} listings", u.listings.size()));
  if (!u.tickers.empty()) parts.push_back(fmt::format("{} tickers", u.tickers.size()));
  if (!u.isins.empty()) parts.push_back(fmt::format("{} ISINs", u.isins.size()));
  if (!u.file.empty()) parts.push_back("file " + u.file);
  return fmt::format("{}", fmt::join(parts, "; "));
}

// Inputs that the run reads but that may legitimately appear later (a lake generated after the
// config was written): worth a warning, not an error.
void WarnAboutMissingInputs(const PipelineConfig& config) {
  std::error_code ec;
  if (!config.data.is_s3() && !std::filesystem::is_directory(config.data.root, ec)) {
    std::fprintf(stderr, "%s: warning: data.root: '%s' is not a directory (yet)\n",
                 config.OriginOf("data.root").ToString().c_str(), config.data.root.c_str());
  }
  if (!config.universe.file.empty() && !config.universe.file.starts_with("s3://") &&
      !std::filesystem::is_regular_file(config.universe.file, ec)) {
    std::fprintf(stderr, "%s: warning: universe.file: '%s' does not exist (yet)\n",
                 config.OriginOf("universe.file").ToString().c_str(), config.universe.file.c_str());
  }
}

Status Validate(const ValidateArgs& args) {
  // Each module checks its own options (metrics/registry.h), as run and plan will.
  INTRADAY_ASSIGN_OR_RAISE(PipelineConfig config, LoadPipelineConfigWithModules(args.config));
  WarnAboutMissingInputs(config);
  size_t modules = 0;
  for (const auto& pass : config.passes) modules += pass.modules.size();
  const size_t days = config.dates.TradingDays().size();
  size_t holidays = 0;  // those that remove a weekday of the range; others are harmless
  for (Date d : config.dates.holidays) {
    if (d >= config.dates.start && d <= config.dates.end && !d.is_weekend()) ++holidays;
  }
  std::string out = fmt::format("{}: ok\n", args.config);
  out += fmt::format("  data:     {}\n", config.data.root);
  out += fmt::format("  universe: {}\n", UniverseSummary(config.universe));
  out += fmt::format("  dates:    {} .. {}: {} trading day{} (weekends and {} holiday{} excluded)\n",
                     config.dates.start.ToString(), config.dates.end.ToString(), days, days == 1 ? "" : "s",
                     holidays, holidays == 1 ? "" : "s");
  out += fmt::format("  passes:   {} pass{}, {} module{}\n", config.passes.size(),
                     config.passes.size() == 1 ? "" : "es", modules, modules == 1 ? "" : "s");
  for (const auto& pass : config.passes) out += "    " + PassSummary(pass) + "\n";
  out += fmt::format("  output:   {}\n", config.run.output);
  out += fmt::format("  config hash: {}\n", ConfigHashHex(config));
  std::fputs(out.c_str(), stdout);
  return Status::OK();
}

}  // namespace

CommandRunner AddValidateCommand(CLI::App& app) {
  auto args = std::make_shared<ValidateArgs>();
  auto* cmd = app.add_subcommand("validate", "Check a pipeline config and report every error with its line");
  cmd->add_option("config", args->config, "Pipeline YAML file")->required();
  return [args] { return Validate(*args); };
}

}  // namespace intraday::cli
