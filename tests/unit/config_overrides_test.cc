// Command-line overrides: applied with the same checks as the file, errors naming the flag.
#include <gtest/gtest.h>

#include "config/config_loader.h"
#include "config/config_overrides.h"

namespace intraday {
namespace {

PipelineConfig Load() {
  auto result = ParsePipelineConfig(R"(data: {root: lake}
universe: {mics: [XLON]}
dates: {start: 2026-03-02, end: 2026-03-06}
run: {output: out, scratch: scratch, workers: 2}
passes: [{name: bars, bucket: 1m, modules: {trade: {}}}]
)",
                                    "pipeline.yaml", "/cfg");
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ValueOrDie();
}

TEST(ConfigOverrides, AppliesEveryFlag) {
  PipelineConfig config = Load();
  ConfigOverrides o;
  o.start = "2026-03-03";
  o.end = "2026-03-10";
  o.workers = "8";
  o.output = "results";
  o.scratch = "/fast/scratch";
  o.memory_per_worker = "4GiB";
  o.resume = true;
  o.size_estimates = "scan";
  o.base_dir = "/home/me";
  ASSERT_TRUE(ApplyOverrides(o, &config).ok());
  EXPECT_EQ(config.dates.start, Date::FromYmd(2026, 3, 3));
  EXPECT_EQ(config.dates.end, Date::FromYmd(2026, 3, 10));
  EXPECT_EQ(config.run.workers, std::optional<int>(8));
  EXPECT_EQ(config.run.output, "/home/me/results");  // relative to where the command was typed
  EXPECT_EQ(config.run.scratch, "/fast/scratch");
  EXPECT_EQ(config.run.memory_per_worker, 4ull << 30);
  EXPECT_TRUE(config.run.resume);
  EXPECT_EQ(config.run.size_estimates, SizeEstimates::kScan);
  EXPECT_EQ(config.OriginOf("run.workers").ToString(), "command line (--workers)");
  EXPECT_EQ(config.OriginOf("dates.start").ToString(), "command line (--start)");
  // Untouched keys keep their file origin.
  EXPECT_EQ(config.OriginOf("passes[0].bucket").line, 5);

  ConfigOverrides autoworkers;
  autoworkers.workers = "auto";
  ASSERT_TRUE(ApplyOverrides(autoworkers, &config).ok());
  EXPECT_FALSE(config.run.workers.has_value());
}

TEST(ConfigOverrides, NoOverridesChangeNothing) {
  PipelineConfig config = Load();
  ASSERT_TRUE(ApplyOverrides(ConfigOverrides{}, &config).ok());
  EXPECT_EQ(config.run.workers, std::optional<int>(2));
  EXPECT_EQ(config.run.output, "/cfg/out");
}

TEST(ConfigOverrides, BadValuesAreReportedAllAtOnceAndLeaveTheConfigUnchanged) {
  PipelineConfig config = Load();
  ConfigOverrides o;
  o.start = "2026-02-30";
  o.workers = "many";
  o.memory_per_worker = "2 gigs";
  o.output = "gs://bucket/out";
  o.size_estimates = "guess";
  const Status st = ApplyOverrides(o, &config);
  ASSERT_FALSE(st.ok());
  const auto errors = ConfigErrorsOf(st);
  ASSERT_EQ(errors.size(), 5u) << st.message();
  EXPECT_NE(
      st.message().find("command line (--start): dates.start: '2026-02-30' is not a valid calendar date"),
      std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("command line (--workers): run.workers: expected 'auto'"), std::string::npos);
  EXPECT_NE(st.message().find("command line (--memory-per-worker): run.memory_per_worker: '2 gigs'"),
            std::string::npos);
  EXPECT_NE(
      st.message().find("command line (--output): run.output: 'gs://bucket/out' has an unsupported scheme"),
      std::string::npos);
  EXPECT_NE(st.message().find("command line (--size-estimates): run.size_estimates: "), std::string::npos)
      << st.message();
  EXPECT_EQ(config.dates.start, Date::FromYmd(2026, 3, 2));
  EXPECT_EQ(config.run.workers, std::optional<int>(2));
  EXPECT_EQ(config.run.size_estimates, SizeEstimates::kAuto);
}

TEST(ConfigOverrides, CrossChecksRunAgain) {
  PipelineConfig config = Load();
  ConfigOverrides o;
  o.end = "2026-03-01";
  Status st = ApplyOverrides(o, &config);
  ASSERT_FALSE(st.ok());
  auto errors = ConfigErrorsOf(st);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key_path, "dates.end");
  EXPECT_EQ(errors[0].location.file, "command line (--end)");
  EXPECT_NE(errors[0].message.find("is before dates.start 2026-03-02"), std::string::npos);

  // The file's start sits at its line; the flag's end has no line.
  ConfigOverrides weekend;
  weekend.start = "2026-03-07";
  weekend.end = "2026-03-08";
  st = ApplyOverrides(weekend, &config);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("holds no trading day"), std::string::npos);

  ConfigOverrides nested;
  nested.scratch = "/cfg/out/tmp";
  st = ApplyOverrides(nested, &config);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(ConfigErrorsOf(st).at(0).key_path, "run.scratch");

  ConfigOverrides both;
  both.resume = true;
  both.force = true;
  EXPECT_FALSE(ApplyOverrides(both, &config).ok());
  EXPECT_FALSE(config.run.resume);
}

}  // namespace
}  // namespace intraday
