// The canonical JSON of an effective config and the hash recorded in run manifests.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/config_json.h"
#include "config/config_loader.h"
#include "config/config_overrides.h"

namespace intraday {
namespace {

PipelineConfig Load(const std::string& text) {
  auto result = ParsePipelineConfig(text, "pipeline.yaml", "/cfg");
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ValueOrDie();
}

constexpr const char* kBase = R"(data: {root: lake}
universe: {mics: [XLON, XPAR]}
dates: {start: 2026-03-02, end: 2026-03-06}
run: {output: out, scratch: scratch}
passes:
  - name: bars
    bucket: 1m
    modules:
      trade: {}
      l2: {levels: 5}
)";

TEST(ConfigJson, EqualConfigsHashEqualHoweverWritten) {
  // Same effective config: other key order, quoting, units, list order, defaults spelt out.
  const PipelineConfig a = Load(kBase);
  const PipelineConfig b = Load(R"(passes:
  - modules:
      trade:
      l2: {levels: 5}
    bucket: 60s
    name: "bars"
    anchor: end
    closed: right
    timeline: dense
    session_padding: 10m
run: {scratch: scratch, output: ./out, memory_per_worker: 2048MiB, retries: 2}
dates: {end: 2026-03-06, start: 2026-03-02, holidays: []}
universe: {mics: [XPAR, XLON]}
data: {root: ./lake/, strict: false}
)");
  EXPECT_EQ(CanonicalConfigJson(a), CanonicalConfigJson(b));
  EXPECT_EQ(ConfigHash(a), ConfigHash(b));
  EXPECT_EQ(ConfigHashHex(a).size(), 16u);
  // Stable across loads (no addresses, no time).
  EXPECT_EQ(ConfigHash(a), ConfigHash(Load(kBase)));
}

TEST(ConfigJson, HashChangesWithWhatDeterminesOutputs) {
  const uint64_t base = ConfigHash(Load(kBase));
  auto with = [](std::string from, std::string to) {
    std::string text = kBase;
    text.replace(text.find(from), from.size(), to);
    return ConfigHash(Load(text));
  };
  EXPECT_NE(base, with("levels: 5", "levels: 6"));
  EXPECT_NE(base, with("bucket: 1m", "bucket: 5m"));
  EXPECT_NE(base, with("[XLON, XPAR]", "[XLON]"));
  EXPECT_NE(base, with("root: lake", "root: lake2"));
  EXPECT_NE(base, with("name: bars", "name: bars1"));
  EXPECT_NE(base, with("      trade: {}\n", ""));
  EXPECT_NE(base, with("modules:", "anchor: start\n    modules:"));
  // Where and how fast is not what: run settings and the date range leave the hash alone.
  EXPECT_EQ(base, with("scratch: scratch}", "scratch: scratch, workers: 7, memory_per_worker: 1GiB}"));
  EXPECT_EQ(base, with("output: out", "output: elsewhere"));
  // Size estimates change batching only, and outputs are identical for any batching: a day
  // published with scan-based sizes stays valid for --resume with history-based ones.
  EXPECT_EQ(base, with("scratch: scratch}", "scratch: scratch, size_estimates: history}"));
  EXPECT_EQ(base, with("scratch: scratch}", "scratch: scratch, size_estimates: scan}"));
  EXPECT_EQ(base, with("scratch: scratch}", "scratch: scratch, overlap_days: false}"));
  EXPECT_EQ(base, with("scratch: scratch}", "scratch: scratch, days_side_by_side: true}"));
  EXPECT_EQ(base, with("scratch: scratch}", "scratch: scratch, wide_batches: false}"));
  // The day files' compression changes their bytes, not the values a reader gets back.
  EXPECT_EQ(base, with("scratch: scratch}", "scratch: scratch, output_compression: snappy}"));
  EXPECT_EQ(base, with("end: 2026-03-06", "end: 2026-03-20"));

  // The full canonical JSON does record them.
  std::string text = kBase;
  text.replace(text.find("output: out"), 11, "output: elsewhere");
  EXPECT_NE(CanonicalConfigJson(Load(kBase)), CanonicalConfigJson(Load(text)));
}

TEST(ConfigJson, CanonicalFormContent) {
  PipelineConfig config = Load(kBase);
  const auto json = nlohmann::ordered_json::parse(CanonicalConfigJson(config, 2));
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"data", "universe", "dates", "run", "passes"}));
  EXPECT_EQ(json["data"]["root"], "/cfg/lake");
  EXPECT_EQ(json["data"]["paths"]["trades"], DefaultPathTemplate(Table::kTrades));  // effective template
  EXPECT_EQ(json["run"]["workers"], "auto");
  EXPECT_EQ(json["run"]["memory_per_worker"], 2ull << 30);
  EXPECT_EQ(json["run"]["size_estimates"], "auto");
  EXPECT_EQ(json["passes"][0]["bucket"], "1m");
  EXPECT_EQ(json["passes"][0]["session_padding"], "10m");
  EXPECT_EQ(json["passes"][0]["modules"]["l2"]["levels"], 5);  // typed, not "5"
  EXPECT_TRUE(json["passes"][0]["modules"]["trade"].is_object());

  ConfigOverrides o;
  o.workers = "3";
  ASSERT_TRUE(ApplyOverrides(o, &config).ok());
  EXPECT_EQ(nlohmann::json::parse(CanonicalConfigJson(config))["run"]["workers"], 3);
}

TEST(ConfigJson, YamlScalarsAreTypedOnlyWhenPlain) {
  const YAML::Node node = YAML::Load(
      R"({b: 1, a: "1", c: 1.5, d: true, e: ~, f: [x, -2], g: 1e3, h: "true", i: 0x10, j: 99999999999999999999})");
  // Keys keep file order; quoted scalars stay strings.
  EXPECT_EQ(YamlToJson(node),
            R"({"b":1,"a":"1","c":1.5,"d":true,"e":null,"f":["x",-2],"g":1000.0,"h":"true","i":"0x10",)"
            R"("j":"99999999999999999999"})");
}

}  // namespace
}  // namespace intraday
