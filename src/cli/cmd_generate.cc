// `intraday generate`: writes a synthetic lake in the vendor layout (see docs/generator.md).
// Parses the options into gen::GenerateOptions and prints one line per day and a total.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "gen/lake_generator.h"

namespace intraday::cli {
namespace {

struct GenerateArgs {
  gen::GenerateOptions options;
  std::string start = "2026-01-02";
  std::string end;
  int days = 1;
  std::string mics = "XLON,XPAR,XETR,XAMS";
  std::string profile = "small";
  std::string layout = "time";
  std::string tables = "trades,l2,l3,marketstate,reference,cbbo,imbalance";
};

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    if (comma > pos) out.push_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

Status Run(GenerateArgs& args) {
  gen::GenerateOptions& o = args.options;
  INTRADAY_ASSIGN_OR_RAISE(o.profile, gen::ParseProfile(args.profile));
  INTRADAY_ASSIGN_OR_RAISE(o.layout, gen::ParseLayout(args.layout));
  INTRADAY_ASSIGN_OR_RAISE(o.tables, gen::ParseTables(args.tables));
  o.mics = SplitCommas(args.mics);
  INTRADAY_ASSIGN_OR_RAISE(Date start, Date::Parse(args.start));
  if (!args.end.empty()) {
    INTRADAY_ASSIGN_OR_RAISE(Date end, Date::Parse(args.end));
    INTRADAY_ASSIGN_OR_RAISE(o.days, gen::WeekdaysBetween(start, end));
  } else {
    if (args.days < 1) return Status::Invalid("--days must be >= 1");
    o.days = gen::WeekdaysFrom(start, args.days);
  }
  INTRADAY_RETURN_NOT_OK(o.Validate());

  fmt::print("generating {} listings x {} day(s) on {} into {} (profile {}, {} layout, seed {})\n",
             o.listings, o.days.size(), args.mics, o.out, gen::ProfileName(o.profile),
             gen::LayoutName(o.layout), o.seed);
  std::fflush(stdout);
  auto on_day = [&](const gen::DaySummary& day) {
    fmt::print("{}: {} ({} files, {:.1f} s)\n", day.day.ToString(), gen::FormatCounts(day.counts, o.tables),
               day.counts.files, day.seconds);
    std::fflush(stdout);
  };
  INTRADAY_ASSIGN_OR_RAISE(auto report, gen::GenerateLake(o, on_day));
  fmt::print("total: {} ({} files, {:.1f} s)\n", gen::FormatCounts(report.total, o.tables),
             report.total.files, report.seconds);
  return Status::OK();
}

}  // namespace

CommandRunner AddGenerateCommand(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  gen::GenerateOptions& o = args->options;
  auto* cmd = app.add_subcommand(
      "generate",
      "Write a synthetic lake in the vendor layout: trades-plus, l2, l3, market-state, reference, cbbo and "
      "imbalance Parquet files per (day, MIC), driven by a simulated order book per listing. The same "
      "options give byte-identical files.");
  cmd->add_option("--out", o.out, "Lake root: a local directory or s3://bucket/prefix")->required();
  cmd->add_option("--listings", o.listings,
                  "Number of listings (spread over the MICs; ~15% of instruments "
                  "are listed on two MICs)")
      ->capture_default_str();
  auto* days = cmd->add_option("--days", args->days, "Number of weekdays from --start (weekends are skipped)")
                   ->capture_default_str();
  cmd->add_option("--start", args->start, "First day, YYYY-MM-DD")->capture_default_str();
  cmd->add_option("--end", args->end, "Last day, YYYY-MM-DD (inclusive; instead of --days)")->excludes(days);
  cmd->add_option("--mics", args->mics,
                  "Comma-separated venues; modelled: XLON, XPAR, XETR, XAMS, XBRU, XMIL, XMAD, XSWX")
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "Random seed; the output is a function of the options")
      ->capture_default_str();
  cmd->add_option("--profile", args->profile,
                  "Activity per listing-day: tiny (~300 continuous L3 events on average), small (~3k), "
                  "medium (~30k), large (~300k)")
      ->capture_default_str();
  cmd->add_option("--events", o.mean_events,
                  "Override the profile: mean continuous L3 events per listing-day");
  cmd->add_option("--layout", args->layout,
                  "Row order in a file: time (all listings interleaved by event time) or listing (by "
                  "ListingId then time; a large listing gets row groups of its own)")
      ->capture_default_str();
  cmd->add_option("--row-group-rows", o.row_group_rows, "Rows per row group (at most)")
      ->capture_default_str();
  cmd->add_option("--threads", o.threads,
                  "Worker threads, each writing whole (day, MIC) file sets; 0 = one "
                  "per core. The output does not depend on it")
      ->capture_default_str();
  cmd->add_option("--tables", args->tables, "Comma-separated tables to write")->capture_default_str();
  cmd->add_option(
      "--s3-endpoint", o.s3.endpoint_override,
      "S3 endpoint, e.g. http://127.0.0.1:9000 (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)");
  cmd->add_option("--s3-region", o.s3.region, "S3 region (default: AWS_REGION / AWS_DEFAULT_REGION)");
  return [args] { return Run(*args); };
}

}  // namespace intraday::cli
