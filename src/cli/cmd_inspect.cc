// `intraday inspect`: what the lake holds for a day, read through the same code as a run.
// For each table and MIC: the file's location (or that it is missing), rows, row groups,
// listings, event-time range and a digest of the decoded values (equal digests = equal data,
// whatever the storage).
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/date.h"
#include "io/file_summary.h"
#include "io/lake.h"

namespace intraday::cli {
namespace {

struct InspectArgs {
  std::string root;
  std::string day;
  std::vector<std::string> mics;
  std::vector<std::string> tables;
  std::string endpoint_override;
  bool json = false;
};

Result<std::vector<std::string>> DiscoverMics(const Lake& lake) {
  // With the default layout every table folder has one sub-folder per MIC.
  arrow::fs::FileSelector selector;
  selector.base_dir = lake.base_path() + "/" + std::string(SpecOf(Table::kReference).folder);
  selector.allow_not_found = true;
  INTRADAY_ASSIGN_OR_RAISE(auto entries, lake.fs()->GetFileInfo(selector));
  std::vector<std::string> mics;
  for (const auto& entry : entries) {
    if (entry.IsDirectory()) mics.push_back(entry.base_name());
  }
  std::sort(mics.begin(), mics.end());
  if (mics.empty()) {
    return Status::Invalid("no MIC folders under ", lake.DisplayPath(selector.base_dir), ": pass --mic");
  }
  return mics;
}

Status RunInspect(const InspectArgs& args) {
  INTRADAY_ASSIGN_OR_RAISE(const Date day, Date::Parse(args.day));
  LakeOptions options;
  options.root = args.root;
  options.s3.endpoint_override = args.endpoint_override;
  INTRADAY_ASSIGN_OR_RAISE(auto lake, Lake::Open(options));
  std::vector<Table> tables;
  if (args.tables.empty()) {
    for (const auto& spec : AllTables()) tables.push_back(spec.table);
  } else {
    for (const auto& key : args.tables) {
      INTRADAY_ASSIGN_OR_RAISE(Table table, TableFromKey(key));
      tables.push_back(table);
    }
  }
  std::vector<std::string> mics = args.mics;
  if (mics.empty()) {
    INTRADAY_ASSIGN_OR_RAISE(mics, DiscoverMics(*lake));
  }

  for (const std::string& mic : mics) {
    for (Table table : tables) {
      const std::string_view key = SpecOf(table).key;
      INTRADAY_ASSIGN_OR_RAISE(auto path, lake->Locate(table, day, mic));
      if (!path) {
        if (args.json) {
          fmt::print("{{\"table\":\"{}\",\"mic\":\"{}\",\"missing\":true}}\n", key, mic);
        } else {
          fmt::print("{:<12} {:<5} missing\n", key, mic);
        }
        continue;
      }
      INTRADAY_ASSIGN_OR_RAISE(auto s,
                               SummarizeTableFile(lake->fs(), *path, lake->DisplayPath(*path), table));
      const bool has_times = s.first_event_ns <= s.last_event_ns;
      if (args.json) {
        fmt::print(
            "{{\"table\":\"{}\",\"mic\":\"{}\",\"rows\":{},\"row_groups\":{},\"columns\":{},\"listings\":{},"
            "\"first_event_ns\":{},\"last_event_ns\":{},\"digest\":\"{:016x}\"}}\n",
            key, mic, s.rows, s.row_groups, s.columns, s.listings, has_times ? s.first_event_ns : 0,
            has_times ? s.last_event_ns : 0, s.digest);
      } else {
        fmt::print(
            "{:<12} {:<5} {:>10} rows {:>4} row groups {:>6} listings  {} .. {}  digest {:016x}\n  {}\n", key,
            mic, s.rows, s.row_groups, s.listings, has_times ? FormatNanos(s.first_event_ns) : "-",
            has_times ? FormatNanos(s.last_event_ns) : "-", s.digest, lake->DisplayPath(*path));
      }
    }
  }
  return Status::OK();
}

}  // namespace

CommandRunner AddInspectCommand(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  auto* cmd =
      app.add_subcommand("inspect", "Show what the lake holds for a day (rows, listings, times, digest)");
  cmd->add_option("--root", args->root, "Lake root: a directory or s3://bucket/prefix")->required();
  cmd->add_option("--day", args->day, "Trading day, YYYY-MM-DD")->required();
  cmd->add_option("--mic", args->mics, "MICs to look at (default: every MIC folder of the reference table)");
  cmd->add_option("--table", args->tables,
                  "Tables to look at (default: all): trades l2 l3 marketstate reference cbbo imbalance");
  cmd->add_option("--endpoint-override", args->endpoint_override,
                  "S3 endpoint, e.g. http://127.0.0.1:9000 (default: AWS_ENDPOINT_URL[_S3])");
  cmd->add_flag("--json", args->json, "One JSON object per file instead of text");
  return [args] { return RunInspect(*args); };
}

}  // namespace intraday::cli
