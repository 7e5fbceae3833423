// `intraday plan CONFIG --day D [--pass NAME] [--json] [--size-estimates MODE]`: how a run would
// cut one day of each pass, without computing anything: the universe, the input files, per-listing
// sizes and where they come from, the budget, the batches and the input strategy with its reason.
// Same code as the run's planner.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "common/machine.h"
#include "common/units.h"
#include "config/config_loader.h"
#include "config/config_overrides.h"
#include "exec/pipeline_runner.h"
#include "metrics/listing_day_computer.h"
#include "metrics/pass_schema.h"
#include "metrics/registry.h"
#include "plan/derived_plan.h"
#include "plan/plan_json.h"
#include "plan/planner.h"
#include "plan/size_estimator.h"
#include "plan/size_history.h"
#include "plan/trading_day.h"

namespace intraday::cli {
namespace {

constexpr size_t kTopListings = 10;

struct PlanArgs {
  std::string config;
  std::string day;
  std::string pass;
  std::string size_cache;
  bool no_size_cache = false;
  std::optional<std::string> size_estimates;
  bool json = false;
};

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// The earlier pass a pass reads instead of the lake, if any.
std::string EarlierPassOf(const PassConfig& pass) {
  for (const auto& module : pass.modules) {
    if (!module.source.empty()) return module.source;
  }
  return {};
}

nlohmann::ordered_json DerivedPlanJson(const DerivedDayPlan& plan) {
  nlohmann::ordered_json batches = nlohmann::ordered_json::array();
  for (const auto& b : plan.batches) {
    batches.push_back({{"id", b.id},
                       {"groups", b.groups},
                       {"listings", b.listings},
                       {"rows", b.rows},
                       {"memory_bytes", b.memory_bytes},
                       {"oversize", b.oversize}});
  }
  nlohmann::ordered_json history = nlohmann::ordered_json::array();
  for (Date d : plan.history) history.push_back(d.ToString());
  return {{"pass", plan.pass},
          {"day", plan.day.ToString()},
          {"source_pass", plan.source_pass},
          {"source_file", plan.source_file},
          {"history_days", history},
          {"listings", plan.listings},
          {"groups", plan.groups},
          {"memory_budget", plan.memory_budget},
          {"batches", batches},
          {"warnings", plan.warnings}};
}

std::string FormatDerivedPlan(const DerivedDayPlan& plan) {
  std::string out =
      fmt::format("pass {}, {}: reads pass '{}' ({}), {} of history\n", plan.pass, plan.day.ToString(),
                  plan.source_pass, plan.source_file, Plural(plan.history.size(), "day", "days"));
  out += fmt::format("  {} in {}, budget {} per worker: {}\n",
                     Plural(static_cast<size_t>(plan.listings), "listing", "listings"),
                     Plural(static_cast<size_t>(plan.groups), "group", "groups"),
                     FormatBytes(plan.memory_budget), Plural(plan.batches.size(), "batch", "batches"));
  for (const auto& b : plan.batches) {
    out += fmt::format("  batch {:>4}: {} ({}), {} rows, ~{}{}\n", b.id,
                       Plural(static_cast<size_t>(b.groups), "group", "groups"),
                       Plural(b.listings.size(), "listing", "listings"), b.rows, FormatBytes(b.memory_bytes),
                       b.oversize ? " OVERSIZE" : "");
  }
  for (const auto& w : plan.warnings) out += "  warning: " + w + "\n";
  return out;
}

std::string TableHeader(const DayPlan& plan) {
  std::string out;
  for (const auto& tc : plan.columns) out += fmt::format(" {:>12}", SpecOf(tc.table).key);
  return out;
}

template <typename T>
std::string TableCells(const DayPlan& plan, const std::array<T, kTableCount>& rows) {
  std::string out;
  for (const auto& tc : plan.columns) out += fmt::format(" {:>12}", rows[TableIndex(tc.table)]);
  return out;
}

// Where a listing's rows came from, over the tables it has files of: "scan", "history" or both.
std::string SourceCell(const DayPlan& plan, const ListingSize& size) {
  bool scan = false, history = false;
  for (const auto& tc : plan.columns) {
    scan = scan || size.source[TableIndex(tc.table)] == SizeSource::kScan;
    history = history || size.source[TableIndex(tc.table)] == SizeSource::kHistory;
  }
  if (scan && history) return "scan+history";
  return scan ? "scan" : (history ? "history" : "-");
}

std::string FormatSizeEstimates(const SizeEstimateSummary& s) {
  std::string out = fmt::format("  estimates  {} (run.size_estimates: {}): {}\n", s.source, s.mode, s.reason);
  if (s.files_from_footer > 0) {
    return out + fmt::format("             files: {} sized whole from their footers (no ListingId read)\n",
                             s.files_from_footer);
  }
  out += fmt::format("             files: {} sized from history (footer only), {} from their own data ",
                     s.files_from_history, s.files_profiled);
  out += fmt::format("({} from the size cache, {} scanned: {} rows)\n", s.cache_hits, s.files_scanned,
                     s.scanned_rows);
  return out;
}

std::string FormatPlan(const DayPlan& plan, const PipelineConfig& config) {
  std::string out = fmt::format("pass {}, {}: {}\n", plan.pass, plan.day.ToString(), ToString(plan.strategy));

  // Budget and caps.
  std::vector<std::string> caps;
  for (const auto& [table, cap] : config.run.max_rows_per_table)
    caps.push_back(fmt::format("{} <= {}", SpecOf(table).key, cap));
  out += fmt::format("  budget     {} per worker (run.memory_per_worker), {} of it for data; row caps: {}\n",
                     FormatBytes(plan.memory_budget), FormatBytes(DataBudget(plan.memory_budget)),
                     caps.empty() ? std::string("none") : fmt::format("{}", fmt::join(caps, ", ")));
  const MachineLimits& machine = ThisMachine();
  out += config.run.workers
             ? fmt::format("  workers    {} (run.workers)\n", *config.run.workers)
             : fmt::format("  workers    {} (run.workers auto: {} cores, {}; {} of memory, {})\n",
                           WorkerCount(config.run), machine.cores, machine.cores_source,
                           FormatBytes(machine.memory_bytes), machine.memory_source);

  // Universe per MIC, the configured MICs included even when they have no listing on the day.
  std::map<std::string, size_t> per_mic;
  for (const auto& mic : config.universe.mics) per_mic[mic] = 0;
  for (const auto& listing : plan.universe.listings) ++per_mic[listing.mic];
  std::vector<std::string> mic_counts;
  for (const auto& [mic, n] : per_mic) mic_counts.push_back(fmt::format("{} {}", mic, n));
  out += fmt::format("  universe   {}: {}\n", Plural(plan.universe.listings.size(), "listing", "listings"),
                     fmt::join(mic_counts, ", "));

  // Projected columns.
  for (size_t i = 0; i < plan.columns.size(); ++i) {
    out += fmt::format("  {:<10} {}: {}\n", i == 0 ? "reads" : "", SpecOf(plan.columns[i].table).key,
                       fmt::join(plan.columns[i].columns, ", "));
  }

  // Files, missing ones included.
  out += "  files\n";
  out += fmt::format("    {:<12} {:<5} {:>12} {:>10}  {:<9}  {}\n", "table", "MIC", "rows", "row groups",
                     "clustered", "path");
  for (const auto& tc : plan.columns) {
    for (const auto& mic : plan.universe.mics) {
      auto it = std::find_if(plan.files.begin(), plan.files.end(),
                             [&](const InputFile& f) { return f.table == tc.table && f.mic == mic; });
      if (it == plan.files.end()) {
        out += fmt::format("    {:<12} {:<5} {:>12} {:>10}  {:<9}  (see warnings)\n", SpecOf(tc.table).key,
                           mic, "-", "-", "missing");
        continue;
      }
      out += fmt::format("    {:<12} {:<5} {:>12} {:>10}  {:<9}  {}\n", SpecOf(it->table).key, it->mic,
                         it->rows, it->row_groups.size(), it->clustered ? "yes" : "no", it->display_path);
    }
  }

  out += FormatSizeEstimates(plan.size_estimates);

  // Sizes: totals and the largest listings, or the bound of the whole files.
  if (plan.whole_day) {
    const WholeDayBound& bound = *plan.whole_day;
    int64_t rows = 0;
    for (int64_t r : bound.rows) rows += r;
    out += fmt::format(
        "  sizes      {}, not counted per listing: the files hold {} rows, {} decoded, "
        "{} worker memory at most (x{} + {} of output rows)\n",
        Plural(plan.universe.listings.size(), "listing", "listings"), rows, FormatBytes(bound.decoded_bytes),
        FormatBytes(bound.memory_bytes), kWorkerMemoryQuarters / 4.0, FormatBytes(bound.output_bytes));
  }
  std::array<int64_t, kTableCount> total_rows{};
  uint64_t total_bytes = 0, total_memory = 0, total_output = 0;
  size_t unknown = 0;
  for (const auto& s : plan.sizes) {
    for (size_t t = 0; t < kTableCount; ++t) {
      total_rows[t] += s.rows[t];
      total_bytes += s.bytes[t];
    }
    total_memory += s.memory_bytes;
    total_output += s.output_bytes;
    if (!s.estimated) ++unknown;
  }
  int64_t rows = 0;
  for (int64_t r : total_rows) rows += r;
  if (!plan.whole_day) {
    out += fmt::format(
        "  sizes      {}{}: {} rows, {} decoded, {} worker memory (x{} + {} of output rows{})\n",
        Plural(plan.sizes.size(), "listing", "listings"),
        unknown > 0 ? fmt::format(" ({} without estimate)", unknown) : "", rows, FormatBytes(total_bytes),
        FormatBytes(total_memory), kWorkerMemoryQuarters / 4.0, FormatBytes(total_output),
        plan.gather_threads > 0
            ? fmt::format("; each batch adds a copy of its {} largest listings", plan.gather_threads)
            : "");
  }
  if (!plan.sizes.empty()) {
    std::vector<const ListingSize*> top;
    for (const auto& s : plan.sizes) top.push_back(&s);
    std::stable_sort(top.begin(), top.end(), [](const ListingSize* a, const ListingSize* b) {
      return a->memory_bytes > b->memory_bytes;
    });
    if (top.size() > kTopListings) top.resize(kTopListings);
    std::map<int64_t, const Listing*> by_id;
    for (const auto& l : plan.universe.listings) by_id[l.listing_id] = &l;
    out += fmt::format("    top {} by memory:\n", top.size());
    out += fmt::format("    {:>12}  {:<5} {:<8}{} {:>12}  {}\n", "ListingId", "MIC", "Ticker",
                       TableHeader(plan), "memory", "source");
    for (const ListingSize* s : top) {
      const Listing* l = by_id.count(s->listing_id) ? by_id[s->listing_id] : nullptr;
      out += fmt::format("    {:>12}  {:<5} {:<8}{} {:>12}  {}{}\n", s->listing_id, l ? l->mic : "",
                         l ? l->ticker : "", TableCells(plan, s->rows), FormatBytes(s->memory_bytes),
                         SourceCell(plan, *s), s->estimated ? "" : "  (unknown)");
    }
  }

  // Batches.
  out += fmt::format("  batches    {}\n", plan.batches.size());
  if (!plan.batches.empty()) {
    out += fmt::format("    {:>5}  {:<27} {:>6}{} {:>12}\n", "id", "listings", "count", TableHeader(plan),
                       "memory");
    for (const Batch& b : plan.batches) {
      const std::string range = b.listings.size() == 1
                                    ? fmt::format("{}", b.listings.front())
                                    : fmt::format("{} .. {}", b.listings.front(), b.listings.back());
      out += fmt::format("    {:>5}  {:<27} {:>6}{} {:>12}{}\n", b.id, range, b.listings.size(),
                         TableCells(plan, b.rows), FormatBytes(b.memory_bytes),
                         b.time_slice_bytes > 0
                             ? fmt::format("  in time slices of {}{}", FormatBytes(b.time_slice_bytes),
                                           b.slice_output_spilled ? ", output rows in scratch" : "")
                         : b.streamed         ? "  OVERSIZE, streamed over time"
                         : b.oversize         ? "  OVERSIZE"
                         : b.worker_slots > 1 ? fmt::format("  takes {} worker places", b.worker_slots)
                                              : "");
    }
  }

  out += fmt::format("  strategy   {}: {}\n", ToString(plan.strategy), plan.strategy_reason);
  out += fmt::format("  warnings   {}\n", plan.warnings.size());
  for (const auto& w : plan.warnings) out += "    - " + w + "\n";
  return out;
}

Status RunPlan(const PlanArgs& args) {
  ConfigLoadOptions load_options;
  load_options.validate_module_options = [&args](const std::string& module, const YAML::Node& options,
                                                 const std::string& key_path) {
    return ValidateModuleOptions(module, options, key_path, args.config);
  };
  INTRADAY_ASSIGN_OR_RAISE(PipelineConfig config, LoadPipelineConfig(args.config, load_options));
  ConfigOverrides overrides;
  overrides.size_estimates = args.size_estimates;
  INTRADAY_RETURN_NOT_OK(ApplyOverrides(overrides, &config));
  auto day = Date::Parse(args.day);
  if (!day.ok()) return Status::Invalid("--day: ", day.status().message());
  INTRADAY_RETURN_NOT_OK(CheckTradingDay(config.dates, *day));

  std::vector<const PassConfig*> passes;
  if (!args.pass.empty()) {
    const PassConfig* pass = config.FindPass(args.pass);
    if (pass == nullptr) {
      std::vector<std::string> names;
      for (const auto& p : config.passes) names.push_back(p.name);
      return Status::Invalid("--pass: no pass '", args.pass, "' in ", args.config, ": expected one of ",
                             fmt::format("{}", fmt::join(names, ", ")));
    }
    passes.push_back(pass);
  } else {
    for (const auto& p : config.passes) passes.push_back(&p);
  }

  INTRADAY_ASSIGN_OR_RAISE(auto lake, Lake::Open(config.data.ToLakeOptions()));
  std::string cache_dir;
  if (!args.no_size_cache)
    cache_dir = args.size_cache.empty() ? DefaultSizeCacheDir(config) : args.size_cache;

  nlohmann::ordered_json json_passes = nlohmann::ordered_json::array();
  std::string text;
  for (const PassConfig* pass : passes) {
    if (const std::string source = EarlierPassOf(*pass); !source.empty()) {
      // Its input is pass `source`'s output, which exists only once a run has produced it.
      INTRADAY_ASSIGN_OR_RAISE(Location output, Location::Open(config.run.output, config.data.s3));
      const std::string source_file = PassDayFile(output.root(), source, *day);
      INTRADAY_ASSIGN_OR_RAISE(bool source_exists, output.Exists(source_file));
      if (!source_exists) {
        const std::string why =
            fmt::format("reads the output of pass '{}' ({}), which does not exist yet: a run produces it",
                        source, source_file);
        json_passes.push_back({{"pass", pass->name}, {"day", day->ToString()}, {"skipped", why}});
        text += fmt::format("pass {}, {}: not planned: {}\n", pass->name, day->ToString(), why);
        continue;
      }
      INTRADAY_ASSIGN_OR_RAISE(auto module, CreateDerivedModule(config, *pass));
      INTRADAY_ASSIGN_OR_RAISE(DerivedDayPlan plan, PlanDerivedDay(*lake, config, *pass, *module, *day));
      if (args.json) {
        json_passes.push_back(DerivedPlanJson(plan));
      } else {
        text += FormatDerivedPlan(plan);
      }
      continue;
    }
    INTRADAY_ASSIGN_OR_RAISE(auto modules, CreatePassModules(*pass, config.source_file));
    PlanRequest request;
    request.config = &config;
    request.pass = pass;
    request.columns = PassColumns(modules, *pass);
    request.group_by_instrument = PassGroupsByInstrument(modules);
    request.stream_blocker = StreamBlocker(modules, ShapeOf(*pass));
    request.day = *day;
    request.size_cache_dir = cache_dir;
    request.size_history_dir = DefaultSizeHistoryDir(config);
    INTRADAY_ASSIGN_OR_RAISE(auto schema, PassOutputSchema(modules));
    request.output_row_bytes = OutputRowBytes(*schema);
    request.worker_slots = WorkerCount(config.run);
    INTRADAY_ASSIGN_OR_RAISE(DayPlan plan, PlanDay(*lake, request));
    if (args.json) {
      json_passes.push_back(ToJson(plan));
    } else {
      text += FormatPlan(plan, config);
    }
  }
  if (args.json) {
    const nlohmann::ordered_json out = {
        {"config", args.config}, {"day", day->ToString()}, {"passes", std::move(json_passes)}};
    std::fputs((out.dump(2) + "\n").c_str(), stdout);
  } else {
    std::fputs(text.c_str(), stdout);
  }
  return Status::OK();
}

}  // namespace

CommandRunner AddPlanCommand(CLI::App& app) {
  auto args = std::make_shared<PlanArgs>();
  auto* cmd = app.add_subcommand("plan", "Print a day's sizes, batches and memory budget (no compute)");
  cmd->add_option("config", args->config, "Pipeline YAML file")->required();
  cmd->add_option("--day", args->day, "Trading day, YYYY-MM-DD")->required();
  cmd->add_option("--pass", args->pass, "Plan only this pass (default: every pass)");
  cmd->add_flag("--json", args->json, "Print the plans as JSON");
  cmd->add_option(
      "--size-cache", args->size_cache,
      "Directory of the per-file size cache (default: <run.output>/_size_cache, shared with run)");
  cmd->add_flag("--no-size-cache", args->no_size_cache, "Neither read nor write the size cache");
  cmd->add_option_function<std::string>(
         "--size-estimates", [args](const std::string& value) { args->size_estimates = value; },
         "Sizes from the files or from earlier runs: scan, history or auto (run.size_estimates)")
      ->check(CLI::IsMember({"scan", "history", "auto"}));
  return [args] { return RunPlan(*args); };
}

}  // namespace intraday::cli
