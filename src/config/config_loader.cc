#include "config/config_loader.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "config/config_internal.h"
#include "config/yaml_reader.h"

namespace intraday {
namespace {

using config_internal::ReadLocation;

constexpr std::string_view kTopKeys[] = {"data", "universe", "dates", "run", "passes"};
constexpr std::string_view kDataKeys[] = {"root", "endpoint_override", "region", "paths", "strict"};
constexpr std::string_view kUniverseKeys[] = {"mics", "tickers", "listings", "isins", "file"};
constexpr std::string_view kDatesKeys[] = {"start", "end", "holidays"};
constexpr std::string_view kRunKeys[] = {"output",
                                         "scratch",
                                         "workers",
                                         "memory_per_worker",
                                         "retries",
                                         "max_rows_per_table",
                                         "log_level",
                                         "resume",
                                         "force",
                                         "shred_buffer",
                                         "size_estimates",
                                         "overlap_days",
                                         "days_side_by_side",
                                         "wide_batches",
                                         "time_slice",
                                         "output_compression",
                                         "output_compression_level"};
constexpr std::string_view kOutputCompressionNames[] = {"zstd", "snappy", "gzip", "none"};
constexpr std::string_view kPassKeys[] = {"name",     "bucket",          "anchor", "closed",
                                          "timeline", "session_padding", "modules"};

constexpr int64_t kMaxRetries = 100;

std::vector<std::string_view> TableKeys() {
  std::vector<std::string_view> keys;
  for (const auto& spec : AllTables()) keys.push_back(spec.key);
  return keys;
}

bool IsMic(std::string_view s) {
  return s.size() == 4 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

// ISO 6166: two letters, nine letters or digits, one check digit.
bool IsIsin(std::string_view s) {
  static const std::regex kIsin("[A-Z]{2}[A-Z0-9]{9}[0-9]");
  return std::regex_match(s.begin(), s.end(), kIsin);
}

bool IsPassName(std::string_view s) {
  static const std::regex kName("[A-Za-z0-9_-]+");
  return std::regex_match(s.begin(), s.end(), kName);
}

// Builds a PipelineConfig section by section. Each section reports its own errors and carries on;
// checks that relate keys run only when the keys involved were read without error, so that one
// mistake is reported once rather than again by every check that depends on it.
class PipelineParser {
 public:
  PipelineParser(ConfigDiagnostics* diag, std::string base_dir, const ConfigLoadOptions& options,
                 PipelineConfig* out)
      : diag_(diag), base_dir_(std::move(base_dir)), options_(options), out_(out) {}

  void Parse(const YAML::Node& root) {
    const YamlValue top{root, "", diag_->LocationOf(root)};
    if (root.IsNull()) {
      diag_->Error(
          SourceLocation{diag_->file()}, "",
          "the file holds no configuration: expected a map with keys data, universe, dates, run, passes");
      return;
    }
    MapReader reader(top, kTopKeys, diag_);
    if (!reader.ok()) return;
    Section(reader, "data", "the lake: {root: ...}", kDataKeys, &PipelineParser::ParseData);
    Section(reader, "universe", "the listings: {mics: [...]}", kUniverseKeys, &PipelineParser::ParseUniverse);
    Section(reader, "dates", "the date range: {start: ..., end: ...}", kDatesKeys,
            &PipelineParser::ParseDates);
    Section(reader, "run", "the run settings: {output: ..., scratch: ...}", kRunKeys,
            &PipelineParser::ParseRun);
    if (const YamlValue* passes = reader.Require("passes", "a list of passes")) ParsePasses(*passes);
    CheckS3Settings();
  }

 private:
  using SectionFn = void (PipelineParser::*)(const MapReader&);

  // A required map section whose keys are `keys`, read by `fn`.
  void Section(const MapReader& top, std::string_view key, std::string_view what,
               std::span<const std::string_view> keys, SectionFn fn) {
    const YamlValue* value = top.Require(key, what);
    if (value == nullptr) return;
    MapReader reader(*value, keys, diag_);
    if (reader.ok()) (this->*fn)(reader);
  }

  // Records where a value came from and returns it, for chaining.
  const YamlValue& Origin(const YamlValue& v) {
    out_->origins[v.path] = v.location;
    return v;
  }

  template <typename T>
  static void Assign(std::optional<T> value, T* target) {
    if (value) *target = std::move(*value);
  }

  void ParseData(const MapReader& m) {
    DataConfig& data = out_->data;
    if (const YamlValue* v = m.Require("root", "the lake root: a local path or s3://bucket/prefix")) {
      Assign(ReadLocation(Origin(*v), diag_, base_dir_, "the lake root: a local path or s3://bucket/prefix"),
             &data.root);
    }
    // Checked against the run's locations in CheckS3Settings, once `run` is read.
    for (auto [key, target] :
         {std::pair{"endpoint_override", &data.s3.endpoint_override}, std::pair{"region", &data.s3.region}}) {
      if (const YamlValue* v = m.Find(key)) Assign(ReadString(Origin(*v), diag_), target);
    }
    if (const YamlValue* v = m.Find("paths")) {
      const std::vector<std::string_view> tables = TableKeys();
      MapReader paths(*v, tables, diag_, "table");
      for (const auto& [key, value] : paths.fields()) {
        auto tmpl = ReadNonEmptyString(Origin(value), diag_, "a path template");
        if (!tmpl) continue;
        if (tmpl->starts_with('/')) {
          diag_->Error(value.location, value.path,
                       fmt::format("'{}' is absolute: expected a template relative to data.root", *tmpl));
          continue;
        }
        if (Status st = ValidatePathTemplate(*tmpl); !st.ok()) {
          diag_->Error(value.location, value.path, st);
          continue;
        }
        data.path_templates[*TableFromKey(key)] = *tmpl;
      }
    }
    if (const YamlValue* v = m.Find("strict")) Assign(ReadBool(Origin(*v), diag_), &data.strict);
  }

  // A list of distinct strings, each accepted by `valid` (else reported with `expected`).
  std::vector<std::string> ReadNames(const YamlValue& v, std::string_view example,
                                     bool (*valid)(std::string_view), std::string_view expected) {
    std::vector<std::string> names;
    auto items = ReadList(Origin(v), diag_, example);
    if (!items) return names;
    std::set<std::string> seen;
    for (const auto& item : *items) {
      auto name = ReadNonEmptyString(item, diag_, expected);
      if (!name) continue;
      if (valid != nullptr && !valid(*name)) {
        diag_->Error(item.location, item.path,
                     fmt::format("'{}' is not valid: expected {}", *name, expected));
      } else if (!seen.insert(*name).second) {
        diag_->Error(item.location, item.path, fmt::format("'{}' is listed twice", *name));
      } else {
        names.push_back(*name);
      }
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  void ParseUniverse(const MapReader& m) {
    UniverseConfig& u = out_->universe;
    const YamlValue* mics = m.Find("mics");
    if (mics != nullptr) {
      u.mics = ReadNames(*mics, "[XLON, XPAR]", IsMic, "a MIC: 4 upper-case letters or digits (ISO 10383)");
    }
    if (const YamlValue* v = m.Find("tickers")) u.tickers = ReadNames(*v, "[VOD, BARC]", nullptr, "a ticker");
    if (const YamlValue* v = m.Find("isins")) {
      u.isins = ReadNames(*v, "[GB00BH4HKS39]", IsIsin, "an ISIN: 2 letters, 9 letters or digits, 1 digit");
    }
    if (const YamlValue* v = m.Find("listings")) {
      if (auto items = ReadList(Origin(*v), diag_, "[1001, 1002]")) {
        std::set<int64_t> seen;
        for (const auto& item : *items) {
          auto id = ReadInt(item, diag_, 1, INT64_MAX);
          if (!id) continue;
          if (!seen.insert(*id).second) {
            diag_->Error(item.location, item.path, fmt::format("ListingId {} is listed twice", *id));
          } else {
            u.listings.push_back(*id);
          }
        }
        std::sort(u.listings.begin(), u.listings.end());
      }
    }
    const YamlValue* file = m.Find("file");
    if (file != nullptr) {
      if (auto path = ReadLocation(Origin(*file), diag_, base_dir_, "a .csv or .parquet file of listings")) {
        if (!path->ends_with(".csv") && !path->ends_with(".parquet")) {
          diag_->Error(
              file->location, file->path,
              fmt::format("'{}' is neither .csv nor .parquet: expected a table of listings in one of "
                          "those formats",
                          file->node.Scalar()));
        } else {
          u.file = *path;
        }
      }
    }
    // The lake is laid out by MIC, so the venues must be known: from `mics`, or from the file.
    // A misspelt `mics` or `file` is already reported as such.
    const bool no_mics = mics == nullptr
                             ? !m.WasSuggested("mics")
                             : mics->node.IsNull() || (mics->node.IsSequence() && mics->node.size() == 0);
    if (file == nullptr && !m.WasSuggested("file") && no_mics) {
      const SourceLocation where = mics != nullptr ? mics->location : m.value().location;
      diag_->Error(where, "universe.mics",
                   "missing: expected the venues' MICs, e.g. [XLON, XPAR] (required unless universe.file is "
                   "given)");
    }
  }

  void ParseDates(const MapReader& m) {
    DatesConfig& dates = out_->dates;
    std::optional<Date> start, end;
    if (const YamlValue* v = m.Require("start", "the first day, YYYY-MM-DD")) {
      start = ReadDate(Origin(*v), diag_);
    }
    if (const YamlValue* v = m.Require("end", "the last day (inclusive), YYYY-MM-DD")) {
      end = ReadDate(Origin(*v), diag_);
    }
    Assign(start, &dates.start);
    Assign(end, &dates.end);
    if (const YamlValue* v = m.Find("holidays")) {
      if (auto items = ReadList(Origin(*v), diag_, "[2026-04-03, 2026-04-06]")) {
        for (const auto& item : *items) {
          auto day = ReadDate(item, diag_);
          if (!day) continue;
          if (std::find(dates.holidays.begin(), dates.holidays.end(), *day) != dates.holidays.end()) {
            diag_->Error(item.location, item.path, fmt::format("{} is listed twice", day->ToString()));
            continue;
          }
          dates.holidays.push_back(*day);
        }
        std::sort(dates.holidays.begin(), dates.holidays.end());
      }
    }
    if (start && end) config_internal::CheckDateRange(*out_, diag_);
  }

  // The S3 settings serve every s3:// location: data.root, run.output and run.scratch.
  void CheckS3Settings() {
    const PipelineConfig& c = *out_;
    if (c.data.root.empty() || c.data.is_s3() || c.run.output.starts_with("s3://") ||
        c.run.scratch.starts_with("s3://")) {
      return;
    }
    for (auto [key, value] : {std::pair{"data.endpoint_override", &c.data.s3.endpoint_override},
                              std::pair{"data.region", &c.data.s3.region}}) {
      if (value->empty()) continue;
      diag_->Error(c.OriginOf(key), key,
                   "only applies to an s3:// data.root, run.output or run.scratch: remove it or use an s3:// "
                   "location");
    }
  }

  void ParseRun(const MapReader& m) {
    RunConfig& run = out_->run;
    if (const YamlValue* v =
            m.Require("output", "the output directory: a local path or s3://bucket/prefix")) {
      Assign(ReadLocation(Origin(*v), diag_, base_dir_, "the output directory"), &run.output);
    }
    if (const YamlValue* v = m.Require("scratch", "the scratch directory for spill files")) {
      Assign(ReadLocation(Origin(*v), diag_, base_dir_, "the scratch directory"), &run.scratch);
    }
    if (const YamlValue* v = m.Find("workers")) {
      Assign(config_internal::ReadWorkers(Origin(*v), diag_), &run.workers);
    }
    if (const YamlValue* v = m.Find("memory_per_worker")) {
      Assign(config_internal::ReadBudget(Origin(*v), diag_), &run.memory_per_worker);
    }
    if (const YamlValue* v = m.Find("retries")) {
      if (auto n = ReadInt(Origin(*v), diag_, 0, kMaxRetries)) run.retries = static_cast<int>(*n);
    }
    if (const YamlValue* v = m.Find("max_rows_per_table")) {
      const std::vector<std::string_view> tables = TableKeys();
      MapReader caps(Origin(*v), tables, diag_, "table");
      for (const auto& [key, value] : caps.fields()) {
        if (auto n = ReadInt(Origin(value), diag_, 1, INT64_MAX)) {
          run.max_rows_per_table[*TableFromKey(key)] = *n;
        }
      }
    }
    if (const YamlValue* v = m.Find("log_level")) {
      if (auto i = ReadChoice(Origin(*v), diag_, kLogLevelNames)) run.log_level = static_cast<LogLevel>(*i);
    }
    if (const YamlValue* v = m.Find("resume")) Assign(ReadBool(Origin(*v), diag_), &run.resume);
    if (const YamlValue* v = m.Find("force")) Assign(ReadBool(Origin(*v), diag_), &run.force);
    if (const YamlValue* v = m.Find("shred_buffer")) {
      Assign(config_internal::ReadBudget(Origin(*v), diag_), &run.shred_buffer);
    }
    if (const YamlValue* v = m.Find("size_estimates")) {
      if (auto i = ReadChoice(Origin(*v), diag_, kSizeEstimatesNames)) {
        run.size_estimates = static_cast<SizeEstimates>(*i);
      }
    }
    if (const YamlValue* v = m.Find("overlap_days")) Assign(ReadBool(Origin(*v), diag_), &run.overlap_days);
    if (const YamlValue* v = m.Find("days_side_by_side")) {
      Assign(ReadBool(Origin(*v), diag_), &run.days_side_by_side);
      if (run.days_side_by_side && !run.overlap_days)
        diag_->Error(v->location, v->path, "days run side by side only with run.overlap_days: true");
    }
    if (const YamlValue* v = m.Find("wide_batches")) Assign(ReadBool(Origin(*v), diag_), &run.wide_batches);
    if (const YamlValue* v = m.Find("time_slice")) {
      // auto (the default), off (or 0), or a byte size.
      if (v->node.IsScalar() && v->node.Scalar() == "auto") {
        run.time_slice.reset();
      } else if (v->node.IsScalar() && (v->node.Scalar() == "0" || v->node.Scalar() == "off")) {
        run.time_slice = 0;
      } else {
        if (auto bytes = config_internal::ReadBudget(Origin(*v), diag_)) run.time_slice = *bytes;
      }
    }
    if (const YamlValue* v = m.Find("output_compression")) {
      if (auto i = ReadChoice(Origin(*v), diag_, kOutputCompressionNames))
        run.output_compression = std::string(kOutputCompressionNames[*i]);
    }
    if (const YamlValue* v = m.Find("output_compression_level")) {
      // zstd's levels, its fast negative ones included, and gzip's.
      if (run.output_compression == "zstd") {
        if (auto n = ReadInt(Origin(*v), diag_, -7, 22)) run.output_compression_level = static_cast<int>(*n);
      } else if (run.output_compression == "gzip") {
        if (auto n = ReadInt(Origin(*v), diag_, 1, 9)) run.output_compression_level = static_cast<int>(*n);
      } else {
        diag_->Error(v->location, v->path,
                     "a level applies only to run.output_compression zstd or gzip, not " +
                         run.output_compression + ": remove it");
      }
    }
    // Checks only what was read: keys with errors keep their defaults (empty paths, false).
    config_internal::CheckRunSettings(*out_, diag_);
  }

  void ParsePasses(const YamlValue& value) {
    auto items = ReadList(Origin(value), diag_, "[{name: bars, bucket: 1m, modules: {trade: {}}}]");
    if (!items) return;
    if (items->empty()) {
      diag_->Error(value.location, value.path, "expected at least one pass");
      return;
    }
    // Pass names as read, with their index (for `source` checks) and position (for duplicates).
    std::map<std::string, std::pair<size_t, SourceLocation>> names;
    for (size_t i = 0; i < items->size(); ++i) {
      PassConfig pass;
      MapReader m((*items)[i], kPassKeys, diag_);
      if (!m.ok()) continue;
      ParsePass(m, &pass);
      if (!pass.name.empty()) {
        const YamlValue* name = m.Find("name");
        auto [it, inserted] = names.emplace(pass.name, std::pair{i, name->location});
        if (!inserted) {
          diag_->Error(name->location, name->path,
                       fmt::format("pass name '{}' is used twice (first at line {}): expected unique names",
                                   pass.name, it->second.second.line));
        }
      }
      out_->passes.push_back(std::move(pass));
    }
    for (size_t i = 0; i < out_->passes.size(); ++i) {
      for (ModuleConfig& module : out_->passes[i].modules) CheckSource(i, names, &module);
    }
  }

  void ParsePass(const MapReader& m, PassConfig* pass) {
    if (const YamlValue* v = m.Require("name", "the pass name, e.g. bars")) {
      if (auto name = ReadNonEmptyString(Origin(*v), diag_, "a pass name")) {
        if (IsPassName(*name)) {
          pass->name = *name;
        } else {
          diag_->Error(
              v->location, v->path,
              fmt::format("'{}' is not a valid pass name: expected letters, digits, '_' and '-' only "
                          "(it names the output folder)",
                          *name));
        }
      }
    }
    if (const YamlValue* v = m.Find("anchor")) {
      if (auto i = ReadChoice(Origin(*v), diag_, kAnchorNames)) pass->anchor = static_cast<Anchor>(*i);
    }
    if (const YamlValue* v = m.Find("closed")) {
      if (auto i = ReadChoice(Origin(*v), diag_, kClosedNames)) pass->closed = static_cast<Closed>(*i);
    }
    const YamlValue* timeline = m.Find("timeline");
    std::optional<size_t> timeline_index;
    if (timeline != nullptr) {
      timeline_index = ReadChoice(Origin(*timeline), diag_, kTimelineNames);
      if (timeline_index) pass->timeline = static_cast<Timeline>(*timeline_index);
    }
    const bool daily = pass->timeline == Timeline::kDaily;
    // A daily timeline has one bucket per listing-day, so its bucket is implied.
    const YamlValue* bucket = daily ? m.Find("bucket") : m.Require("bucket", "the bucket length, e.g. 1m");
    if (bucket != nullptr) {
      if (auto n = ReadDuration(Origin(*bucket), diag_)) {
        if (*n > kNanosPerDay) {
          diag_->Error(bucket->location, bucket->path,
                       fmt::format("'{}' is longer than a day: expected at most 1d", bucket->node.Scalar()));
        } else if (daily && *n != kNanosPerDay) {
          diag_->Error(bucket->location, bucket->path,
                       fmt::format("'{}' contradicts timeline: daily (one bucket per day): expected 1d or no "
                                   "bucket",
                                   bucket->node.Scalar()));
        } else {
          pass->bucket_ns = *n;
        }
      }
    } else if (daily) {
      pass->bucket_ns = kNanosPerDay;
    }
    if (const YamlValue* v = m.Find("session_padding")) {
      if (auto n = ReadDuration(Origin(*v), diag_, /*allow_zero=*/true)) {
        if (*n >= kNanosPerDay) {
          diag_->Error(v->location, v->path, "expected less than a day");
        } else {
          pass->session_padding_ns = *n;
        }
      }
    }
    if (const YamlValue* v = m.Require("modules", "the modules of the pass, e.g. {trade: {}}")) {
      ParseModules(*v, pass);
    }
  }

  void ParseModules(const YamlValue& value, PassConfig* pass) {
    MapReader m(Origin(value), KnownModules(), diag_, "module");
    if (!m.ok()) return;
    if (value.node.IsNull() || value.node.size() == 0) {
      diag_->Error(value.location, value.path,
                   "expected at least one module, e.g. {trade: {}}; modules are " +
                       fmt::format("{}", fmt::join(KnownModules(), ", ")));
      return;
    }
    for (const auto& [name, v] : m.fields()) {
      ModuleConfig module{name, v.node, v.path, Origin(v).location, ""};
      if (v.node.IsNull()) {
        module.options = YAML::Node(YAML::NodeType::Map);
      } else if (!v.node.IsMap()) {
        diag_->Error(v.location, v.path,
                     fmt::format("expected a map of the module's options ({{}} for its defaults), got {}",
                                 DescribeNode(v.node)));
        continue;
      }
      if (options_.validate_module_options) {
        try {
          diag_->Merge(options_.validate_module_options(name, module.options, module.key_path),
                       module.location, module.key_path);
        } catch (const YAML::Exception& e) {
          diag_->Error(module.location, module.key_path, fmt::format("invalid options: {}", e.msg));
        }
      }
      pass->modules.push_back(std::move(module));
    }
  }

  // generic and reaggregate read the output of the pass named by `source`, which must run before.
  void CheckSource(size_t pass_index, const std::map<std::string, std::pair<size_t, SourceLocation>>& names,
                   ModuleConfig* module) {
    if (!ReadsEarlierPass(module->name) || !module->options.IsMap()) return;
    const YAML::Node& options = module->options;  // const: a lookup must not add the key
    const YAML::Node node = options["source"];
    if (!node.IsDefined()) return;
    const std::string path = ChildPath(module->key_path, "source");
    const YamlValue v{node, path, node.IsNull() ? module->location : diag_->LocationOf(node)};
    auto source = ReadNonEmptyString(Origin(v), diag_, "the name of an earlier pass");
    if (!source) return;
    auto it = names.find(*source);
    std::vector<std::string_view> earlier;
    for (size_t i = 0; i < pass_index; ++i) {
      const std::string& name = out_->passes[i].name;
      if (!name.empty() && std::find(earlier.begin(), earlier.end(), name) == earlier.end()) {
        earlier.push_back(name);
      }
    }
    const std::string earlier_text =
        earlier.empty() ? "but this is the first pass" : fmt::format("one of {}", fmt::join(earlier, ", "));
    if (it == names.end()) {
      std::string message =
          fmt::format("no pass is named '{}': expected an earlier pass, {}", *source, earlier_text);
      if (auto match = ClosestMatch(*source, earlier)) {
        message += fmt::format(" (did you mean '{}'?)", *match);
      }
      diag_->Error(v.location, path, std::move(message));
    } else if (it->second.first == pass_index) {
      diag_->Error(
          v.location, path,
          fmt::format("a pass cannot read its own output: expected an earlier pass, {}", earlier_text));
    } else if (it->second.first > pass_index) {
      diag_->Error(v.location, path,
                   fmt::format("pass '{}' runs later (passes[{}]): expected an earlier pass, {}", *source,
                               it->second.first, earlier_text));
    } else {
      module->source = *source;
    }
  }

  ConfigDiagnostics* diag_;
  std::string base_dir_;
  const ConfigLoadOptions& options_;
  PipelineConfig* out_;
};

}  // namespace

Result<PipelineConfig> ParsePipelineConfig(std::string_view yaml_text, const std::string& file_name,
                                           const std::string& base_dir, const ConfigLoadOptions& options) {
  ConfigDiagnostics diag(file_name);
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    diag.Error(SourceLocation{file_name, e.mark.line + 1, e.mark.column + 1}, "",
               fmt::format("YAML syntax error: {}", e.msg));
    return diag.ToStatus();
  }
  if (documents.size() > 1) {
    diag.Error(diag.LocationOf(documents[1]), "",
               fmt::format("the file holds {} YAML documents: expected one", documents.size()));
    return diag.ToStatus();
  }
  PipelineConfig config;
  config.source_file = file_name;
  config.base_dir = std::filesystem::absolute(base_dir).lexically_normal().string();
  while (config.base_dir.size() > 1 && config.base_dir.back() == '/') config.base_dir.pop_back();
  try {
    PipelineParser(&diag, config.base_dir, options, &config)
        .Parse(documents.empty() ? YAML::Node() : documents[0]);
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws only on misuse; report rather than crash.
    diag.Error(SourceLocation{file_name, e.mark.line + 1, e.mark.column + 1}, "", e.msg);
  }
  INTRADAY_RETURN_NOT_OK(diag.ToStatus());
  return config;
}

Result<PipelineConfig> LoadPipelineConfig(const std::string& path, const ConfigLoadOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::IOError("cannot read config file '", path, "': it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read config file '", path, "': ", std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read config file '", path, "': ", std::strerror(errno));
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return ParsePipelineConfig(text.str(), path, dir.empty() ? "." : dir, options);
}

}  // namespace intraday
