// The pipeline config loader: every field of a full file, the defaults, and each kind of error
// with its key path and line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "config/config_loader.h"
#include "config/yaml_reader.h"

namespace intraday {
namespace {

// YAML written in the test as R"(\n...)": the first newline is dropped so that line 1 of the file
// is the first line after R"(.
std::string Yaml(std::string_view text) {
  return std::string(text.starts_with('\n') ? text.substr(1) : text);
}

Result<PipelineConfig> Parse(std::string_view text, const ConfigLoadOptions& options = {}) {
  return ParsePipelineConfig(Yaml(text), "pipeline.yaml", "/cfg", options);
}

std::vector<ConfigError> ErrorsOf(std::string_view text, const ConfigLoadOptions& options = {}) {
  auto result = Parse(text, options);
  EXPECT_FALSE(result.ok()) << "expected errors in:\n" << text;
  if (result.ok()) return {};
  auto errors = ConfigErrorsOf(result.status());
  EXPECT_FALSE(errors.empty()) << result.status().ToString();
  return errors;
}

// The one error about `key_path`, or a failure listing what was reported instead.
ConfigError ErrorAt(const std::vector<ConfigError>& errors, const std::string& key_path) {
  std::string all;
  for (const auto& e : errors) {
    if (e.key_path == key_path) return e;
    all += "\n  " + e.ToString();
  }
  ADD_FAILURE() << "no error for " << key_path << "; got:" << all;
  return {};
}

void ExpectError(std::string_view text, const std::string& key_path, int line, const std::string& needle) {
  const auto errors = ErrorsOf(text);
  const ConfigError e = ErrorAt(errors, key_path);
  EXPECT_EQ(e.location.file, "pipeline.yaml");
  EXPECT_EQ(e.location.line, line) << e.ToString();
  EXPECT_NE(e.message.find(needle), std::string::npos) << e.ToString();
}

constexpr std::string_view kMinimal = R"(
data:
  root: lake
universe:
  mics: [XLON]
dates:
  start: 2026-03-02
  end: 2026-03-06
run:
  output: out
  scratch: scratch
passes:
  - name: bars
    bucket: 1m
    modules:
      trade: {}
)";

TEST(ConfigLoader, FullConfigReadsEveryField) {
  auto result = Parse(R"(
data:
  root: /data/lake
  paths:
    trades: "Trades/{MIC}/{YYYYMMDD}.parquet"
  strict: true
universe:
  mics: [XPAR, XLON]
  tickers: [VOD]
  listings: [42, 7]
  isins: [GB00BH4HKS39]
  file: lists/universe.csv
dates:
  start: 2026-03-02
  end: 2026-03-13
  holidays: [2026-03-06]
run:
  output: out
  scratch: /tmp/scratch
  workers: 4
  memory_per_worker: 512MiB
  retries: 0
  max_rows_per_table: {trades: 1000000, l3: 5000000}
  log_level: debug
  resume: true
  shred_buffer: 64MiB
  size_estimates: history
  overlap_days: false
  wide_batches: false
passes:
  - name: bars
    bucket: 250ms
    anchor: start
    closed: left
    timeline: sparse
    session_padding: 0
    modules:
      trade: {classifications: [LIT_CONTINUOUS]}
      l2: {levels: 5}
      l2tw:
  - name: daily-agg
    timeline: daily
    modules:
      reaggregate: {source: bars}
)");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const PipelineConfig& c = *result;
  EXPECT_EQ(c.source_file, "pipeline.yaml");
  EXPECT_EQ(c.base_dir, "/cfg");

  EXPECT_EQ(c.data.root, "/data/lake");
  EXPECT_FALSE(c.data.is_s3());
  ASSERT_EQ(c.data.path_templates.size(), 1u);
  EXPECT_EQ(c.data.path_templates.at(Table::kTrades), "Trades/{MIC}/{YYYYMMDD}.parquet");
  EXPECT_TRUE(c.data.strict);
  EXPECT_EQ(c.data.ToLakeOptions().root, "/data/lake");

  EXPECT_EQ(c.universe.mics, (std::vector<std::string>{"XLON", "XPAR"}));  // sorted
  EXPECT_EQ(c.universe.tickers, (std::vector<std::string>{"VOD"}));
  EXPECT_EQ(c.universe.listings, (std::vector<int64_t>{7, 42}));
  EXPECT_EQ(c.universe.isins, (std::vector<std::string>{"GB00BH4HKS39"}));
  EXPECT_EQ(c.universe.file, "/cfg/lists/universe.csv");

  EXPECT_EQ(c.dates.start, Date::FromYmd(2026, 3, 2));
  EXPECT_EQ(c.dates.end, Date::FromYmd(2026, 3, 13));
  EXPECT_EQ(c.dates.holidays, (std::vector<Date>{Date::FromYmd(2026, 3, 6)}));
  const auto days = c.dates.TradingDays();
  EXPECT_EQ(days.size(), 9u);  // two weeks of weekdays minus the holiday
  EXPECT_EQ(days.front(), Date::FromYmd(2026, 3, 2));
  EXPECT_EQ(days.back(), Date::FromYmd(2026, 3, 13));
  EXPECT_FALSE(c.dates.IsTradingDay(Date::FromYmd(2026, 3, 6)));
  EXPECT_FALSE(c.dates.IsTradingDay(Date::FromYmd(2026, 3, 7)));

  EXPECT_EQ(c.run.output, "/cfg/out");
  EXPECT_EQ(c.run.scratch, "/tmp/scratch");
  EXPECT_EQ(c.run.workers, std::optional<int>(4));
  EXPECT_EQ(c.run.memory_per_worker, 512ull << 20);
  EXPECT_EQ(c.run.retries, 0);
  EXPECT_EQ(c.run.max_rows_per_table.at(Table::kTrades), 1'000'000);
  EXPECT_EQ(c.run.max_rows_per_table.at(Table::kL3), 5'000'000);
  EXPECT_EQ(c.run.log_level, LogLevel::kDebug);
  EXPECT_TRUE(c.run.resume);
  EXPECT_FALSE(c.run.force);
  EXPECT_EQ(c.run.shred_buffer, 64ull << 20);
  EXPECT_EQ(c.run.size_estimates, SizeEstimates::kHistory);
  EXPECT_FALSE(c.run.overlap_days);
  EXPECT_FALSE(c.run.wide_batches);
  EXPECT_EQ(c.run.output_compression, "zstd");  // the defaults
  EXPECT_EQ(c.run.output_compression_level, std::nullopt);

  ASSERT_EQ(c.passes.size(), 2u);
  const PassConfig& bars = c.passes[0];
  EXPECT_EQ(bars.name, "bars");
  EXPECT_EQ(bars.bucket_ns, 250'000'000);
  EXPECT_EQ(bars.anchor, Anchor::kStart);
  EXPECT_EQ(bars.closed, Closed::kLeft);
  EXPECT_EQ(bars.timeline, Timeline::kSparse);
  EXPECT_EQ(bars.session_padding_ns, 0);
  ASSERT_EQ(bars.modules.size(), 3u);
  EXPECT_EQ(bars.modules[0].name, "trade");  // file order
  EXPECT_EQ(bars.modules[1].name, "l2");
  EXPECT_EQ(bars.modules[2].name, "l2tw");
  EXPECT_EQ(bars.modules[1].options["levels"].as<int>(), 5);
  EXPECT_EQ(bars.modules[1].key_path, "passes[0].modules.l2");
  EXPECT_EQ(bars.modules[1].location.line, 38);
  EXPECT_TRUE(bars.modules[2].options.IsMap());  // an empty value reads as {}
  EXPECT_EQ(bars.modules[2].options.size(), 0u);
  EXPECT_EQ(bars.modules[0].options["classifications"][0].as<std::string>(), "LIT_CONTINUOUS");

  const PassConfig& daily = c.passes[1];
  EXPECT_EQ(daily.name, "daily-agg");
  EXPECT_EQ(daily.timeline, Timeline::kDaily);
  EXPECT_EQ(daily.bucket_ns, kNanosPerDay);  // implied by the daily timeline
  ASSERT_NE(daily.FindModule("reaggregate"), nullptr);
  EXPECT_EQ(daily.FindModule("reaggregate")->source, "bars");
  EXPECT_EQ(c.FindPass("daily-agg"), &c.passes[1]);

  // Origins point at the value's line, for errors raised after loading.
  EXPECT_EQ(c.OriginOf("run.workers").line, 19);
  EXPECT_EQ(c.OriginOf("run.workers").column, 12);
  EXPECT_EQ(c.OriginOf("passes[1].timeline").line, 41);
  EXPECT_FALSE(c.OriginOf("run.force").has_position());  // a default
}

TEST(ConfigLoader, Defaults) {
  auto result = Parse(kMinimal);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const PipelineConfig& c = *result;
  EXPECT_TRUE(c.data.path_templates.empty());
  EXPECT_FALSE(c.data.strict);
  EXPECT_TRUE(c.data.s3.endpoint_override.empty());
  EXPECT_TRUE(c.universe.file.empty());
  EXPECT_FALSE(c.universe.has_filters());
  EXPECT_TRUE(c.dates.holidays.empty());
  EXPECT_EQ(c.dates.TradingDays().size(), 5u);
  EXPECT_FALSE(c.run.workers.has_value());  // auto
  EXPECT_EQ(c.run.memory_per_worker, 2ull << 30);
  EXPECT_EQ(c.run.retries, 2);
  EXPECT_TRUE(c.run.max_rows_per_table.empty());
  EXPECT_EQ(c.run.log_level, LogLevel::kInfo);
  EXPECT_FALSE(c.run.resume);
  EXPECT_FALSE(c.run.force);
  EXPECT_EQ(c.run.shred_buffer, 256ull << 20);
  EXPECT_EQ(c.run.size_estimates, SizeEstimates::kAuto);
  EXPECT_TRUE(c.run.overlap_days);
  EXPECT_FALSE(c.run.days_side_by_side);
  EXPECT_TRUE(c.run.wide_batches);
  ASSERT_EQ(c.passes.size(), 1u);
  EXPECT_EQ(c.passes[0].bucket_ns, 60 * kNanosPerSecond);
  EXPECT_EQ(c.passes[0].anchor, Anchor::kEnd);
  EXPECT_EQ(c.passes[0].closed, Closed::kRight);
  EXPECT_EQ(c.passes[0].timeline, Timeline::kDense);
  EXPECT_EQ(c.passes[0].session_padding_ns, 10 * 60 * kNanosPerSecond);
}

TEST(ConfigLoader, S3RootWithSettings) {
  auto result = Parse(R"(
data:
  root: s3://bucket/prefix/
  endpoint_override: http://127.0.0.1:9000
  region: eu-west-2
universe: {mics: [XLON]}
dates: {start: 2026-03-02, end: 2026-03-02}
run: {output: s3://bucket/out, scratch: /tmp/s}
passes: [{name: bars, bucket: 1m, modules: {trade: {}}}]
)");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->data.root, "s3://bucket/prefix");
  EXPECT_TRUE(result->data.is_s3());
  EXPECT_EQ(result->data.s3.endpoint_override, "http://127.0.0.1:9000");
  EXPECT_EQ(result->data.s3.region, "eu-west-2");
  EXPECT_EQ(result->run.output, "s3://bucket/out");
}

TEST(ConfigLoader, S3SettingsServeAnS3OutputOrScratchBesideALocalLake) {
  for (const char* run :
       {"{output: s3://bucket/out, scratch: /tmp/s}", "{output: /tmp/o, scratch: s3://b/s}"}) {
    auto result = Parse(std::string(R"(
data:
  root: /data/lake
  endpoint_override: http://127.0.0.1:9000
  region: eu-west-2
universe: {mics: [XLON]}
dates: {start: 2026-03-02, end: 2026-03-02}
run: )") + run + R"(
passes: [{name: bars, bucket: 1m, modules: {trade: {}}}]
)");
    ASSERT_TRUE(result.ok()) << run << ": " << result.status().ToString();
    EXPECT_EQ(result->data.s3.endpoint_override, "http://127.0.0.1:9000");
  }
}

TEST(ConfigLoader, OutputCompression) {
  // kMinimal with `run_lines` after its run.scratch (line 10): they start at line 11.
  auto with = [](const std::string& run_lines) {
    std::string text(kMinimal);
    const std::string scratch = "  scratch: scratch\n";
    return text.replace(text.find(scratch), scratch.size(), scratch + run_lines);
  };
  auto parsed = Parse(with("  output_compression: gzip\n  output_compression_level: 9\n"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->run.output_compression, "gzip");
  EXPECT_EQ(parsed->run.output_compression_level, std::optional<int>(9));
  ExpectError(with("  output_compression: brotli\n"), "run.output_compression", 11, "zstd");
  ExpectError(with("  output_compression: snappy\n  output_compression_level: 3\n"),
              "run.output_compression_level", 12, "only to run.output_compression zstd or gzip");
  ExpectError(with("  output_compression_level: 23\n"), "run.output_compression_level", 11, "22");
  ExpectError(with("  output_compression: gzip\n  output_compression_level: 0\n"),
              "run.output_compression_level", 12, "1");
}

TEST(ConfigLoader, DaysSideBySide) {
  std::string text(kMinimal);
  const std::string scratch = "  scratch: scratch\n";
  text.replace(text.find(scratch), scratch.size(), scratch + "  days_side_by_side: true\n");
  auto parsed = Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->run.days_side_by_side);
  EXPECT_TRUE(parsed->run.overlap_days);
}

TEST(ConfigLoader, UnknownKeysWithSuggestion) {
  ExpectError(R"(
data:
  root: lake
universe:
  mics: [XLON]
dates: {start: 2026-03-02, end: 2026-03-06}
run: {output: out, scratch: scratch}
pases: []
)",
              "pases", 7, "did you mean 'passes'?");
  ExpectError(R"(
data:
  root: lake
universe:
  mic: [XLON]
)",
              "universe.mic", 4, "unknown key (did you mean 'mics'?)");
  ExpectError(R"(
data:
  root: lake
universe: {mics: [XLON]}
dates: {start: 2026-03-02, end: 2026-03-06}
run:
  output: out
  scratch: scratch
  memory-per-worker: 1GiB
)",
              "run.memory-per-worker", 8, "did you mean 'memory_per_worker'?");
  ExpectError(R"(
passes:
  - name: bars
    bucket: 1m
    modules: {trade: {}}
    colsed: left
)",
              "passes[0].colsed", 5, "did you mean 'closed'?");
  // Nothing close: the valid keys are listed instead.
  ExpectError(R"(
data:
  root: lake
  colour: blue
)",
              "data.colour", 3, "expected one of root, endpoint_override, region, paths, strict");
}

TEST(ConfigLoader, MisspeltRequiredKeyIsReportedOnce) {
  // Not again as "universe.mics: missing" or "passes: missing".
  const auto errors = ErrorsOf(R"(
data: {root: lake}
universe:
  mic: [XLON]
dates: {start: 2026-03-02, end: 2026-03-06}
run: {output: out, scratch: scratch}
pass:
  - {name: bars, bucket: 1m, modules: {trade: {}}}
)");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].key_path, "universe.mic");
  EXPECT_EQ(errors[1].key_path, "pass");
  EXPECT_NE(errors[1].message.find("did you mean 'passes'?"), std::string::npos);
}

TEST(ConfigLoader, WrongTypes) {
  ExpectError(R"(
data:
  root: lake
universe:
  mics: {XLON: 1}
)",
              "universe.mics", 4, "expected a list");
  ExpectError(R"(
data: [lake]
)",
              "data", 1, "expected a map");
  ExpectError(R"(
data:
  root: lake
universe: {mics: [XLON]}
dates: {start: 2026-03-02, end: 2026-03-06}
run:
  output: out
  scratch: scratch
  retries: two
)",
              "run.retries", 8, "'two' is not an integer");
  ExpectError(R"(
data:
  root: [a, b]
)",
              "data.root", 2, "got a list");
  ExpectError(R"(
data:
  root: lake
  strict: sometimes
)",
              "data.strict", 3, "expected true or false");
  ExpectError(R"(
universe:
  listings: [1001, ABC]
)",
              "universe.listings[1]", 2, "'ABC' is not an integer");
  ExpectError(R"(
passes:
  - name: bars
    bucket: 1m
    modules:
      l2: 5
)",
              "passes[0].modules.l2", 5, "expected a map of the module's options");
}

TEST(ConfigLoader, BadValues) {
  ExpectError(R"(
dates:
  start: 2026-03-02
  end: 2026-02-30
)",
              "dates.end", 3, "not a valid calendar date");
  ExpectError(R"(
dates:
  start: 02/03/2026
  end: 2026-03-06
)",
              "dates.start", 2, "YYYY-MM-DD");
  ExpectError(R"(
dates:
  start: 2026-03-06
  end: 2026-03-02
)",
              "dates.end", 3, "is before dates.start 2026-03-06");
  ExpectError(R"(
dates:
  start: 2026-03-07
  end: 2026-03-08
)",
              "dates", 2, "holds no trading day");
  ExpectError(R"(
run:
  output: out
  scratch: scratch
  memory_per_worker: 2 gigs
)",
              "run.memory_per_worker", 4, "byte-size unit 'gigs'");
  ExpectError(R"(
run:
  output: out
  scratch: scratch
  shred_buffer: 4096
)",
              "run.shred_buffer", 4, "expected at least 64KiB");
  ExpectError(R"(
run:
  output: out
  scratch: scratch
  workers: 0
)",
              "run.workers", 4, "expected 'auto' or a number of workers");
  ExpectError(R"(
run:
  output: out
  scratch: out/tmp
)",
              "run.scratch", 3, "inside run.output");
  ExpectError(R"(
run:
  output: out
  scratch: scratch
  resume: true
  force: true
)",
              "run.force", 5, "resume and force are both true");
  ExpectError(R"(
run:
  log_level: verbose
)",
              "run.log_level", 2, "expected one of debug, info, warn, error");
  ExpectError(R"(
run:
  size_estimates: guess
)",
              "run.size_estimates", 2, "expected one of scan, history, auto");
  ExpectError(R"(
run:
  overlap_days: sometimes
)",
              "run.overlap_days", 2, "expected true or false");
  ExpectError(R"(
run:
  days_side_by_side: maybe
)",
              "run.days_side_by_side", 2, "expected true or false");
  ExpectError(R"(
run:
  overlap_days: false
  days_side_by_side: true
)",
              "run.days_side_by_side", 3, "only with run.overlap_days: true");
  ExpectError(R"(
run:
  wide_batches: 2
)",
              "run.wide_batches", 2, "expected true or false");
  ExpectError(R"(
universe:
  mics: [XLON, xpar]
)",
              "universe.mics[1]", 2, "'xpar' is not valid: expected a MIC");
  ExpectError(R"(
universe:
  mics: [XLON, XLON]
)",
              "universe.mics[1]", 2, "listed twice");
  ExpectError(R"(
universe:
  tickers: [VOD]
)",
              "universe.mics", 2, "required unless universe.file is given");
  ExpectError(R"(
universe:
  file: universe.txt
)",
              "universe.file", 2, "neither .csv nor .parquet");
  ExpectError(R"(
data:
  root: gs://bucket/lake
)",
              "data.root", 2, "unsupported scheme");
  ExpectError(R"(
data:
  root: lake
  region: eu-west-2
)",
              "data.region", 3, "only applies to an s3:// data.root");
}

TEST(ConfigLoader, BadPathTemplate) {
  ExpectError(R"(
data:
  root: lake
  paths:
    l2: "Equity/{MIC}/{Year}/l2.parquet"
)",
              "data.paths.l2", 4, "unknown placeholder {Year}");
  ExpectError(R"(
data:
  root: lake
  paths:
    l3: "/abs/{MIC}.parquet"
)",
              "data.paths.l3", 4, "expected a template relative to data.root");
  ExpectError(R"(
data:
  root: lake
  paths:
    trade: "x/{MIC}.parquet"
)",
              "data.paths.trade", 4, "unknown table (did you mean 'trades'?)");
}

TEST(ConfigLoader, BadPassSettings) {
  ExpectError(R"(
passes:
  - name: bars
    bucket: 1 minute
    modules: {trade: {}}
)",
              "passes[0].bucket", 3, "unknown duration unit");
  ExpectError(R"(
passes:
  - name: bars
    bucket: 2d
    modules: {trade: {}}
)",
              "passes[0].bucket", 3, "expected at most 1d");
  ExpectError(R"(
passes:
  - name: bars
    bucket: 1m
    anchor: middle
    modules: {trade: {}}
)",
              "passes[0].anchor", 4, "expected one of end, start");
  ExpectError(R"(
passes:
  - name: bars
    bucket: 1m
    closed: rihgt
    modules: {trade: {}}
)",
              "passes[0].closed", 4, "did you mean 'right'?");
  ExpectError(R"(
passes:
  - name: bars
    bucket: 1m
    timeline: dnse
    modules: {trade: {}}
)",
              "passes[0].timeline", 4, "did you mean 'dense'?");
  ExpectError(R"(
passes:
  - name: bars
    modules: {trade: {}}
)",
              "passes[0].bucket", 2, "missing: expected the bucket length");
  ExpectError(R"(
passes:
  - name: bars/1
    bucket: 1m
    modules: {trade: {}}
)",
              "passes[0].name", 2, "not a valid pass name");
  ExpectError(R"(
passes:
  - name: bars
    bucket: 1m
    modules: {}
)",
              "passes[0].modules", 4, "expected at least one module");
  ExpectError(R"(
passes: []
)",
              "passes", 1, "expected at least one pass");
}

TEST(ConfigLoader, DuplicatePassName) {
  ExpectError(R"(
passes:
  - name: bars
    bucket: 1m
    modules: {trade: {}}
  - name: bars
    bucket: 5m
    modules: {trade: {}}
)",
              "passes[1].name", 5, "pass name 'bars' is used twice (first at line 2)");
}

TEST(ConfigLoader, UnknownModule) {
  ExpectError(R"(
passes:
  - name: bars
    bucket: 1m
    modules:
      trade: {}
      l2wt: {}
)",
              "passes[0].modules.l2wt", 6, "unknown module (did you mean 'l2tw'?)");
  ExpectError(R"(
passes:
  - name: bars
    bucket: 1m
    modules:
      vwap: {}
)",
              "passes[0].modules.vwap", 5,
              "expected one of trade, retail_imbalance, l2, l2tw, l3, execution");
}

TEST(ConfigLoader, SourceMustNameAnEarlierPass) {
  constexpr std::string_view kLater = R"(
passes:
  - name: bars15
    bucket: 15m
    modules:
      generic: {source: bars}
  - name: bars
    bucket: 1m
    modules: {trade: {}}
)";
  ExpectError(kLater, "passes[0].modules.generic.source", 5, "pass 'bars' runs later (passes[1])");
  ExpectError(R"(
passes:
  - name: bars
    bucket: 1m
    modules: {trade: {}}
  - name: bars15
    bucket: 15m
    modules:
      generic:
        source: bras
)",
              "passes[1].modules.generic.source", 9,
              "no pass is named 'bras': expected an earlier pass, one of bars "
              "(did you mean 'bars'?)");
  ExpectError(R"(
passes:
  - name: bars
    bucket: 1m
    modules:
      reaggregate: {source: bars}
)",
              "passes[0].modules.reaggregate.source", 5, "a pass cannot read its own output");
}

TEST(ConfigLoader, YamlSyntaxError) {
  const auto errors = ErrorsOf(R"(
data:
  root: lake
universe:
  mics: [XLON, XPAR
dates:
  start: 2026-03-02
)");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key_path, "");
  EXPECT_EQ(errors[0].location.file, "pipeline.yaml");
  // yaml-cpp notices the unclosed flow list where the next block key starts.
  EXPECT_GE(errors[0].location.line, 4);
  EXPECT_LE(errors[0].location.line, 5);
  EXPECT_GT(errors[0].location.column, 0);
  EXPECT_NE(errors[0].message.find("YAML syntax error"), std::string::npos);
  EXPECT_NE(errors[0].ToString().find("pipeline.yaml:"), std::string::npos);

  const auto tab = ErrorsOf("data:\n  root: lake\n    extra: x\n");
  ASSERT_EQ(tab.size(), 1u);
  EXPECT_EQ(tab[0].location.line, 3);
}

TEST(ConfigLoader, EmptyAndNonMapFiles) {
  ExpectError("", "", 0, "holds no configuration");
  ExpectError("# only a comment\n", "", 0, "holds no configuration");
  ExpectError("- a\n- b\n", "", 1, "expected a map");
  ExpectError("a: 1\n---\nb: 2\n", "", 3, "expected one");
}

TEST(ConfigLoader, MissingSectionsAndKeys) {
  const auto errors = ErrorsOf(R"(
data:
  strict: true
)");
  EXPECT_EQ(ErrorAt(errors, "data.root").location.line, 2);
  EXPECT_NE(ErrorAt(errors, "data.root").message.find("missing"), std::string::npos);
  for (const char* section : {"universe", "dates", "run", "passes"}) {
    EXPECT_EQ(ErrorAt(errors, section).location.line, 1) << section;
  }
}

TEST(ConfigLoader, ReportsEveryErrorAtOnceInFileOrder) {
  const auto result = Parse(R"(
data:
  root: lake
  rooot: other
universe:
  mics: [XLON]
dates:
  start: 2026-13-01
  end: 2026-03-06
run:
  output: out
  scratch: scratch
  memory_per_worker: lots
passes:
  - name: bars
    bucket: 1m
    anchor: top
    modules:
      trade: {}
      level2: {}
)");
  ASSERT_FALSE(result.ok());
  const auto errors = ConfigErrorsOf(result.status());
  ASSERT_EQ(errors.size(), 5u) << result.status().message();
  const std::vector<std::pair<std::string, int>> expected = {{"data.rooot", 3},
                                                             {"dates.start", 7},
                                                             {"run.memory_per_worker", 12},
                                                             {"passes[0].anchor", 16},
                                                             {"passes[0].modules.level2", 19}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(errors[i].key_path, expected[i].first);
    EXPECT_EQ(errors[i].location.line, expected[i].second) << errors[i].ToString();
  }
  // The message carries them all, one per line, as `intraday validate` prints it.
  const std::string& message = result.status().message();
  EXPECT_NE(message.find("5 errors"), std::string::npos);
  EXPECT_NE(message.find("pipeline.yaml:12:22: run.memory_per_worker: 'lots' is not a byte size"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("pipeline.yaml:3:3: data.rooot: unknown key (did you mean 'root'?)"),
            std::string::npos)
      << message;
}

TEST(ConfigLoader, RepeatedKey) {
  ExpectError(R"(
data:
  root: lake
  root: other
)",
              "data.root", 3, "key repeated (first given at line 2)");
}

TEST(ConfigLoader, ModuleOptionsValidatorHook) {
  std::vector<std::string> seen;
  ConfigLoadOptions options;
  options.validate_module_options = [&](const std::string& module, const YAML::Node& node,
                                        const std::string& key_path) -> Status {
    seen.push_back(module + "@" + key_path);
    if (module != "l2") return Status::OK();
    // A module reporting a precise error with the shared readers.
    ConfigDiagnostics diag("");
    const YAML::Node levels = node["levels"];
    if (levels.IsDefined()) {
      ReadInt(YamlValue{levels, key_path + ".levels", diag.LocationOf(levels)}, &diag, 1, 10);
    }
    return diag.ToStatus();
  };
  constexpr std::string_view kText = R"(
data: {root: lake}
universe: {mics: [XLON]}
dates: {start: 2026-03-02, end: 2026-03-06}
run: {output: out, scratch: scratch}
passes:
  - name: bars
    bucket: 1m
    modules:
      trade: {}
      l2:
        levels: 50
)";
  const auto errors = ErrorsOf(kText, options);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key_path, "passes[0].modules.l2.levels");
  EXPECT_EQ(errors[0].location.file, "pipeline.yaml");  // filled in by the loader
  EXPECT_EQ(errors[0].location.line, 11);
  EXPECT_EQ(seen, (std::vector<std::string>{"trade@passes[0].modules.trade", "l2@passes[0].modules.l2"}));

  // A plain error status is placed at the module's line.
  options.validate_module_options = [](const std::string& module, const YAML::Node&, const std::string&) {
    return module == "trade" ? Status::Invalid("unknown option 'foo'") : Status::OK();
  };
  const auto plain = ErrorsOf(kText, options);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].key_path, "passes[0].modules.trade");
  EXPECT_EQ(plain[0].location.line, 9);
  EXPECT_EQ(plain[0].message, "unknown option 'foo'");
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("intraday_config_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "conf");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& relative, std::string_view text) {
    const auto path = dir_ / relative;
    std::ofstream(path) << Yaml(text);
    return path.string();
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigFileTest, RelativePathsResolveAgainstTheConfigDirectory) {
  const std::string path = Write("conf/pipeline.yaml", R"(
data: {root: ../lake}
universe: {mics: [XLON], file: lists/u.parquet}
dates: {start: 2026-03-02, end: 2026-03-06}
run: {output: out, scratch: /var/tmp/scratch}
passes: [{name: bars, bucket: 1m, modules: {trade: {}}}]
)");
  // Whatever the current directory: load through a path with a different working directory.
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  auto result = LoadPipelineConfig("conf/pipeline.yaml");
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->data.root, (dir_ / "lake").string());
  EXPECT_EQ(result->universe.file, (dir_ / "conf/lists/u.parquet").string());
  EXPECT_EQ(result->run.output, (dir_ / "conf/out").string());
  EXPECT_EQ(result->run.scratch, "/var/tmp/scratch");  // absolute stays as is
  EXPECT_EQ(result->base_dir, (dir_ / "conf").string());
  EXPECT_EQ(result->source_file, "conf/pipeline.yaml");

  auto absolute = LoadPipelineConfig(path);
  ASSERT_TRUE(absolute.ok());
  EXPECT_EQ(absolute->data.root, result->data.root);
}

TEST_F(ConfigFileTest, MissingFileNamesIt) {
  const std::string path = (dir_ / "nope.yaml").string();
  auto result = LoadPipelineConfig(path);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsIOError());
  EXPECT_NE(result.status().message().find(path), std::string::npos);
  EXPECT_NE(result.status().message().find("No such file"), std::string::npos);

  auto dir = LoadPipelineConfig(dir_.string());
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("is a directory"), std::string::npos);
}

TEST_F(ConfigFileTest, ErrorsNameTheFileAsGiven) {
  const std::string path = Write("conf/bad.yaml", "data:\n  root: lake\n  rot: x\n");
  auto result = LoadPipelineConfig(path);
  ASSERT_FALSE(result.ok());
  const auto errors = ConfigErrorsOf(result.status());
  EXPECT_EQ(ErrorAt(errors, "data.rot").location.file, path);
  EXPECT_NE(result.status().message().find(path + ":3:3: data.rot: unknown key (did you mean 'root'?)"),
            std::string::npos)
      << result.status().message();
}

TEST(ConfigLoader, ExampleConfigOfTheRepositoryIsValid) {
  auto result = LoadPipelineConfig(std::string(INTRADAY_SOURCE_DIR) + "/examples/pipeline.yaml");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->passes.size(), 2u);
  EXPECT_EQ(result->passes[0].name, "bars");
  EXPECT_EQ(result->passes[0].modules.size(), 5u);
  EXPECT_EQ(result->passes[1].name, "bars15");
  EXPECT_EQ(result->passes[1].FindModule("generic")->source, "bars");
  EXPECT_EQ(result->universe.mics, (std::vector<std::string>{"XLON", "XPAR"}));
  EXPECT_EQ(result->data.root, std::string(INTRADAY_SOURCE_DIR) + "/examples/lake");
}

TEST(ConfigLoader, CompleteExampleOfTheDocsIsValid) {
  std::ifstream in(std::string(INTRADAY_SOURCE_DIR) + "/docs/config.md");
  ASSERT_TRUE(in) << "docs/config.md not found";
  std::string line, yaml;
  bool in_section = false, in_block = false;
  while (std::getline(in, line)) {
    if (line.starts_with("## ")) in_section = line == "## A complete example";
    if (in_section && line == "```yaml") {
      in_block = true;
    } else if (in_block && line == "```") {
      break;
    } else if (in_block) {
      yaml += line + "\n";
    }
  }
  ASSERT_FALSE(yaml.empty());
  auto result = ParsePipelineConfig(yaml, "docs/config.md", "/docs");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->passes.size(), 2u);
}

}  // namespace
}  // namespace intraday
