// Hand-worked cases of the later-pass modules (metrics.md, "Pass 2+"; docs/metrics/generic.md
// and reaggregate.md): indicators on short series, bucket resampling, grouping listings of one
// instrument, several indicators in one config, and reaggregation into an index with notional
// weights. The modules are driven as the engine's workers drive them: options from YAML, a
// source table per day, a universe table.
#include <cmath>
#include <optional>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/table.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "metrics/derived_module.h"
#include "metrics/generic.h"
#include "metrics/indicators.h"
#include "metrics/reaggregate.h"

namespace intraday {
namespace {

using indicators::Series;
constexpr int64_t kMinute = 60 * kNanosPerSecond;

/// 2026-03-02 hh:mm in ns.
int64_t At(int hour, int minute) {
  return Date::FromYmd(2026, 3, 2).days_since_epoch() * kNanosPerDay + (hour * 60 + minute) * kMinute;
}

void ExpectSeries(const Series& got, const std::vector<std::optional<double>>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (!want[i]) {
      EXPECT_FALSE(got[i].has_value()) << "row " << i << " should be null, is " << got[i].value_or(0);
    } else {
      ASSERT_TRUE(got[i].has_value()) << "row " << i << " is null";
      EXPECT_NEAR(*got[i], *want[i], 1e-12) << "row " << i;
    }
  }
}

// One row of the source pass: ListingId, TimeBucket, then the value columns below.
struct Bar {
  int64_t listing;
  int64_t bucket;
  std::optional<double> close;
  double volume = 0;
  double notional = 0;
  std::optional<double> spread;
  int64_t count = 0;
};

std::shared_ptr<arrow::Schema> BarsSchema() {
  return arrow::schema({arrow::field("ListingId", arrow::int64(), false),
                        arrow::field("TimeBucket", arrow::timestamp(arrow::TimeUnit::NANO), false),
                        arrow::field("Close", arrow::float64()), arrow::field("Volume", arrow::float64()),
                        arrow::field("Notional", arrow::float64()),
                        arrow::field("SpreadBps", arrow::float64()), arrow::field("Count", arrow::int64())});
}

std::shared_ptr<arrow::Table> BarsTable(const std::vector<Bar>& bars) {
  arrow::Int64Builder ids, counts;
  arrow::TimestampBuilder times(arrow::timestamp(arrow::TimeUnit::NANO), arrow::default_memory_pool());
  arrow::DoubleBuilder close, volume, notional, spread;
  for (const Bar& b : bars) {
    EXPECT_TRUE(ids.Append(b.listing).ok());
    EXPECT_TRUE(times.Append(b.bucket).ok());
    EXPECT_TRUE((b.close ? close.Append(*b.close) : close.AppendNull()).ok());
    EXPECT_TRUE(volume.Append(b.volume).ok());
    EXPECT_TRUE(notional.Append(b.notional).ok());
    EXPECT_TRUE((b.spread ? spread.Append(*b.spread) : spread.AppendNull()).ok());
    EXPECT_TRUE(counts.Append(b.count).ok());
  }
  return arrow::Table::Make(BarsSchema(), {*ids.Finish(), *times.Finish(), *close.Finish(), *volume.Finish(),
                                           *notional.Finish(), *spread.Finish(), *counts.Finish()});
}

/// ListingId, InstrumentId, MIC.
std::shared_ptr<arrow::Table> UniverseTable(
    const std::vector<std::tuple<int64_t, int64_t, std::string>>& rows) {
  arrow::Int64Builder ids, instruments;
  arrow::StringBuilder mics;
  for (const auto& [id, instrument, mic] : rows) {
    EXPECT_TRUE(ids.Append(id).ok());
    EXPECT_TRUE(instruments.Append(instrument).ok());
    EXPECT_TRUE(mics.Append(mic).ok());
  }
  auto schema =
      arrow::schema({arrow::field("ListingId", arrow::int64(), false),
                     arrow::field("InstrumentId", arrow::int64()), arrow::field("MIC", arrow::utf8())});
  return arrow::Table::Make(schema, {*ids.Finish(), *instruments.Finish(), *mics.Finish()});
}

/// The universe table with the columns a module asked for, as the engine builds it.
std::shared_ptr<arrow::Table> UniverseFor(const DerivedModule& module,
                                          const std::shared_ptr<arrow::Table>& full) {
  std::vector<int> indices{0};
  for (const auto& c : module.universe_columns()) {
    if (c != "ListingId") indices.push_back(full->schema()->GetFieldIndex(c));
  }
  return *full->SelectColumns(indices);
}

DerivedContext Context(int64_t bucket, BucketAnchor anchor = BucketAnchor::kEnd) {
  return DerivedContext{"bars",
                        TimeGrid(bucket, anchor, BucketClosed::kRight),
                        TimeGrid(kMinute, BucketAnchor::kEnd, BucketClosed::kRight),
                        false,
                        BarsSchema(),
                        {}};
}

std::unique_ptr<DerivedModule> Generic(const std::string& yaml, const DerivedContext& context) {
  ConfigDiagnostics diag("test.yaml");
  auto module =
      CreateGenericModule(YamlValue{YAML::Load(yaml), "passes[1].modules.generic", {}}, context, &diag);
  for (const auto& e : diag.errors()) ADD_FAILURE() << e.key_path << ": " << e.message;
  return module;
}

std::shared_ptr<arrow::Table> Compute(const DerivedModule& module, const std::vector<std::vector<Bar>>& days,
                                      const std::shared_ptr<arrow::Table>& universe) {
  DerivedInput input;
  input.day = Date::FromYmd(2026, 3, 2);
  for (const auto& day : days) input.days.push_back(BarsTable(day));
  input.universe = UniverseFor(module, universe);
  auto out = module.Compute(input);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *(*out)->CombineChunks() : nullptr;
}

std::vector<std::optional<double>> Doubles(const arrow::Table& table, const std::string& column) {
  std::vector<std::optional<double>> out;
  const auto array = table.GetColumnByName(column)->chunk(0);
  for (int64_t i = 0; i < array->length(); ++i) {
    if (array->IsNull(i)) {
      out.push_back(std::nullopt);
    } else if (array->type_id() == arrow::Type::INT64) {
      out.push_back(static_cast<double>(static_cast<const arrow::Int64Array&>(*array).Value(i)));
    } else {
      out.push_back(static_cast<const arrow::DoubleArray&>(*array).Value(i));
    }
  }
  return out;
}

std::vector<int64_t> Int64s(const arrow::Table& table, const std::string& column) {
  const auto& array = static_cast<const arrow::Int64Array&>(*table.GetColumnByName(column)->chunk(0));
  return {array.raw_values(), array.raw_values() + array.length()};
}

std::vector<int64_t> Buckets(const arrow::Table& table) {
  const auto& array =
      static_cast<const arrow::TimestampArray&>(*table.GetColumnByName("TimeBucket")->chunk(0));
  return {array.raw_values(), array.raw_values() + array.length()};
}

TEST(Indicators, SmaOfTwoOnTenElevenTwelve) {
  const std::vector<std::optional<double>> closes{10, 11, 12};
  ExpectSeries(indicators::Sma(closes, 2), {std::nullopt, 10.5, 11.5});
}

TEST(Indicators, NullsAreSkippedNotZero) {
  const std::vector<std::optional<double>> closes{10, std::nullopt, 11, 12};
  ExpectSeries(indicators::Sma(closes, 2), {std::nullopt, std::nullopt, 10.5, 11.5});
}

TEST(Indicators, EachFunctionOnOneSeries) {
  // Worked by hand on 10, 11, 13, 12, 15 (docs/metrics/generic.md gives the formulas).
  const std::vector<std::optional<double>> x{10, 11, 13, 12, 15};
  const auto n = std::nullopt;
  ExpectSeries(indicators::Sma(x, 3), {n, n, 34.0 / 3, 12, 40.0 / 3});
  // EMA(3): alpha 1/2, seeded with the SMA of the first three.
  ExpectSeries(indicators::Ema(x, 3), {n, n, 34.0 / 3, 35.0 / 3, 40.0 / 3});
  // RSI(2): changes +1 +2 -1 +3; seed gain 1.5, loss 0; then Wilder smoothing.
  ExpectSeries(indicators::Rsi(x, 2), {n, n, 100, 60, 100 * 1.875 / 2.125});
  ExpectSeries(indicators::RollingStd(x, 3, 1), {n, n, std::sqrt(7.0 / 3), 1, std::sqrt(7.0 / 3)});
  ExpectSeries(indicators::ZScore(x, 3, 1),
               {n, n, (13 - 34.0 / 3) / std::sqrt(7.0 / 3), 0, (15 - 40.0 / 3) / std::sqrt(7.0 / 3)});
  const auto bands = indicators::Bollinger(x, 3, 2, 0);
  ExpectSeries(bands.middle, {n, n, 34.0 / 3, 12, 40.0 / 3});
  ExpectSeries(bands.upper, {n, n, 34.0 / 3 + 2 * std::sqrt(42.0 / 27), 12 + 2 * std::sqrt(2.0 / 3),
                             40.0 / 3 + 2 * std::sqrt(42.0 / 27)});
  // MACD(2, 3, 2): EMA(2) seeded 10.5 at the 2nd value, EMA(3) 34/3 at the 3rd.
  const double ema2_2 = 2.0 / 3 * 13 + 10.5 / 3, ema2_3 = 2.0 / 3 * 12 + ema2_2 / 3,
               ema2_4 = 2.0 / 3 * 15 + ema2_3 / 3;
  const double line2 = ema2_2 - 34.0 / 3, line3 = ema2_3 - 35.0 / 3, line4 = ema2_4 - 40.0 / 3;
  const double signal3 = (line2 + line3) / 2, signal4 = 2.0 / 3 * line4 + signal3 / 3;
  const auto macd = indicators::Macd(x, 2, 3, 2);
  ExpectSeries(macd.line, {n, n, line2, line3, line4});
  ExpectSeries(macd.signal, {n, n, n, signal3, signal4});
  ExpectSeries(macd.histogram, {n, n, n, line3 - signal3, line4 - signal4});
}

TEST(Indicators, FlatSeriesRsiIsFiftyAndZScoreNull) {
  const std::vector<std::optional<double>> x{5, 5, 5, 5};
  ExpectSeries(indicators::Rsi(x, 2), {std::nullopt, std::nullopt, 50, 50});
  ExpectSeries(indicators::ZScore(x, 2, 1), {std::nullopt, std::nullopt, std::nullopt, std::nullopt});
}

TEST(Resample, EndLabelledMinutesGoToTheQuarterTheyEndIn) {
  const TimeGrid minute(kMinute, BucketAnchor::kEnd, BucketClosed::kRight);
  const TimeGrid quarter(15 * kMinute, BucketAnchor::kEnd, BucketClosed::kRight);
  for (int m = 1; m <= 15; ++m) EXPECT_EQ(ResampleLabel(At(10, m), minute, quarter), At(10, 15)) << m;
  EXPECT_EQ(ResampleLabel(At(10, 16), minute, quarter), At(10, 30));
  EXPECT_EQ(ResampleLabel(At(10, 0), minute, quarter), At(10, 0));
  const TimeGrid quarter_start(15 * kMinute, BucketAnchor::kStart, BucketClosed::kRight);
  EXPECT_EQ(ResampleLabel(At(10, 1), minute, quarter_start), At(10, 0));
  EXPECT_EQ(ResampleLabel(At(10, 15), minute, quarter_start), At(10, 0));
  const TimeGrid minute_start(kMinute, BucketAnchor::kStart, BucketClosed::kLeft);
  const TimeGrid quarter_left(15 * kMinute, BucketAnchor::kEnd, BucketClosed::kLeft);
  EXPECT_EQ(ResampleLabel(At(10, 0), minute_start, quarter_left), At(10, 15));
  EXPECT_EQ(ResampleLabel(At(10, 14), minute_start, quarter_left), At(10, 15));
  EXPECT_EQ(ResampleLabel(At(10, 15), minute_start, quarter_left), At(10, 30));
}

TEST(Generic, TwoListingsOfOneInstrumentSummedPerMinute) {
  auto module = Generic(
      "{source: bars, group_by: [InstrumentId, TimeBucket], aggregations: {Volume: sum, Count: "
      "sum, Close: last}}",
      Context(kMinute));
  ASSERT_NE(module, nullptr);
  const auto universe = UniverseTable({{1, 7, "XLON"}, {2, 7, "XPAR"}, {3, 8, "XLON"}});
  const auto out = Compute(*module,
                           {{{1, At(10, 1), 10.0, 100, 0, {}, 2},
                             {1, At(10, 2), std::nullopt, 50, 0, {}, 0},
                             {2, At(10, 1), 10.5, 10, 0, {}, 1},
                             {2, At(10, 2), 11.0, 5, 0, {}, 1},
                             {3, At(10, 1), 20.0, 1, 0, {}, 1}}},
                           universe);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->schema()->field(0)->name(), "InstrumentId");
  EXPECT_EQ(Int64s(*out, "InstrumentId"), (std::vector<int64_t>{7, 7, 8}));
  EXPECT_EQ(Buckets(*out), (std::vector<int64_t>{At(10, 1), At(10, 2), At(10, 1)}));
  ExpectSeries(Doubles(*out, "Volume"), {110, 55, 1});
  EXPECT_EQ(Int64s(*out, "Count"), (std::vector<int64_t>{3, 1, 1}));
  // Last non-null in (bucket, ListingId) order: listing 2's 10.5 comes after listing 1's 10.
  ExpectSeries(Doubles(*out, "Close"), {10.5, 11.0, 20.0});
}

TEST(Generic, OneMinuteToFifteenMinutesWithEndLabels) {
  auto module =
      Generic("{source: bars, resample: 15m, aggregations: {Volume: sum, Close: last, SpreadBps: mean}}",
              Context(15 * kMinute));
  ASSERT_NE(module, nullptr);
  std::vector<Bar> bars;
  for (int m = 1; m <= 16; ++m) bars.push_back({1, At(10, m), 100.0 + m, 1, 0, static_cast<double>(m), 1});
  const auto out = Compute(*module, {bars}, UniverseTable({{1, 7, "XLON"}}));
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(Buckets(*out), (std::vector<int64_t>{At(10, 15), At(10, 30)}));
  ExpectSeries(Doubles(*out, "Volume"), {15, 1});
  ExpectSeries(Doubles(*out, "Close"), {115, 116});
  ExpectSeries(Doubles(*out, "SpreadBps"), {8, 16});
}

TEST(Generic, SeveralIndicatorsEachWithItsOwnFunctionAndParameters) {
  auto module = Generic(R"({source: bars, aggregations: {Close: last, Volume: sum},
      indicators: [{name: SMA, column: Close, period: 3}, {name: EMA, column: Close, period: 3},
                   {name: RSI, column: Close, period: 2}, {name: SMA, column: Volume, period: 2, as: VolumeSMA2},
                   {name: MACD, column: Close, fast: 2, slow: 3, signal: 2},
                   {name: Bollinger, column: Close, period: 3}, {name: RollingStd, column: Close, period: 3},
                   {name: ZScore, column: Close, period: 3}]})",
                        Context(kMinute));
  ASSERT_NE(module, nullptr);
  const std::vector<double> closes{10, 11, 13, 12, 15};
  std::vector<Bar> bars;
  for (size_t i = 0; i < closes.size(); ++i)
    bars.push_back({1, At(10, static_cast<int>(i) + 1), closes[i], static_cast<double>(i + 1), 0, {}, 1});
  const auto out = Compute(*module, {bars}, UniverseTable({{1, 7, "XLON"}}));
  ASSERT_NE(out, nullptr);
  const std::vector<std::optional<double>> x(closes.begin(), closes.end());
  ExpectSeries(Doubles(*out, "SMA3"), indicators::Sma(x, 3));
  ExpectSeries(Doubles(*out, "EMA3"), indicators::Ema(x, 3));
  ExpectSeries(Doubles(*out, "RSI2"), indicators::Rsi(x, 2));
  ExpectSeries(Doubles(*out, "VolumeSMA2"), {std::nullopt, 1.5, 2.5, 3.5, 4.5});
  ExpectSeries(Doubles(*out, "MACD2_3_2"), indicators::Macd(x, 2, 3, 2).line);
  ExpectSeries(Doubles(*out, "MACDSignal2_3_2"), indicators::Macd(x, 2, 3, 2).signal);
  ExpectSeries(Doubles(*out, "MACDHist2_3_2"), indicators::Macd(x, 2, 3, 2).histogram);
  ExpectSeries(Doubles(*out, "BollingerUpper3"), indicators::Bollinger(x, 3, 2, 0).upper);
  ExpectSeries(Doubles(*out, "BollingerLower3"), indicators::Bollinger(x, 3, 2, 0).lower);
  ExpectSeries(Doubles(*out, "RollingStd3"), indicators::RollingStd(x, 3, 1));
  ExpectSeries(Doubles(*out, "ZScore3"), indicators::ZScore(x, 3, 1));
  // The functions differ: a config applying one function to every indicator would fail here.
  EXPECT_NE(Doubles(*out, "SMA3")[4], Doubles(*out, "EMA3")[3]);
}

TEST(Generic, HistoryDaysWarmUpIndicatorsButAreNotOutput) {
  auto module = Generic(
      "{source: bars, history_days: 1, aggregations: {Close: last}, indicators: [{name: SMA, "
      "column: Close, period: 2}]}",
      Context(kMinute));
  ASSERT_NE(module, nullptr);
  const int64_t yesterday = -kNanosPerDay;
  const auto out = Compute(*module,
                           {{{1, At(15, 59) + yesterday, 9.0, 0, 0, {}, 0}},
                            {{1, At(10, 1), 10.0, 0, 0, {}, 0}, {1, At(10, 2), 11.0, 0, 0, {}, 0}}},
                           UniverseTable({{1, 7, "XLON"}}));
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(Buckets(*out), (std::vector<int64_t>{At(10, 1), At(10, 2)}));
  ExpectSeries(Doubles(*out, "SMA2"), {9.5, 10.5});
}

TEST(Generic, OptionErrorsNameTheKey) {
  ConfigDiagnostics diag("test.yaml");
  auto module = CreateGenericModule(
      YamlValue{
          YAML::Load("{source: bars, group_by: [Close], aggregations: {Closee: last, Volume: avg}, "
                     "indicators: [{name: SMA, column: Volume, period: 0}, {name: KAMA, column: Close}]}"),
          "passes[1].modules.generic",
          {}},
      Context(kMinute), &diag);
  EXPECT_EQ(module, nullptr);
  std::vector<std::string> messages;
  for (const auto& e : diag.errors()) messages.push_back(e.key_path + ": " + e.message);
  auto has = [&](const std::string& text) {
    return std::any_of(messages.begin(), messages.end(),
                       [&](const auto& m) { return m.find(text) != m.npos; });
  };
  EXPECT_TRUE(
      has("passes[1].modules.generic.aggregations.Closee: pass 'bars' has no column 'Closee' (did you mean "
          "'Close'?)"))
      << ::testing::PrintToString(messages);
  EXPECT_TRUE(has("passes[1].modules.generic.aggregations.Volume: 'avg'"))
      << ::testing::PrintToString(messages);
  EXPECT_TRUE(has("passes[1].modules.generic.group_by: 'Close' is a column of pass 'bars'"))
      << ::testing::PrintToString(messages);
  EXPECT_TRUE(has("indicators[0].period")) << ::testing::PrintToString(messages);
  EXPECT_TRUE(has("indicators[1].name: 'KAMA'")) << ::testing::PrintToString(messages);
}

TEST(Generic, ResampleMustBeAMultipleAndMatchThePassBucket) {
  ConfigDiagnostics diag("test.yaml");
  auto module =
      CreateGenericModule(YamlValue{YAML::Load("{source: bars, resample: 10m, aggregations: {Close: last}}"),
                                    "passes[1].modules.generic",
                                    {}},
                          Context(90 * kNanosPerSecond), &diag);
  EXPECT_EQ(module, nullptr);
  ASSERT_GE(diag.errors().size(), 2u);
}

TEST(Reaggregate, TwoListingsIntoAnIndexWithNotionalWeights) {
  DerivedContext context = Context(kMinute);
  context.source_columns = {{"Close", ValueType::kFloat64, "price", ""},
                            {"Volume", ValueType::kFloat64, "shares", ""},
                            {"Notional", ValueType::kFloat64, "EUR", ""},
                            {"SpreadBps", ValueType::kFloat64, "bps", ""},
                            {"Count", ValueType::kInt64, "trades", ""}};
  ConfigDiagnostics diag("test.yaml");
  auto module = CreateReaggregateModule(
      YamlValue{YAML::Load("{source: bars, group_by: InstrumentId, weight: Notional, rules: {Close: last}}"),
                "passes[1].modules.reaggregate",
                {}},
      context, &diag);
  for (const auto& e : diag.errors()) ADD_FAILURE() << e.key_path << ": " << e.message;
  ASSERT_NE(module, nullptr);
  const auto universe = UniverseTable({{1, 7, "XLON"}, {2, 7, "XPAR"}});
  const std::vector<std::vector<Bar>> day{{{1, At(10, 1), 100.0, 10, 100, 10.0, 1},
                                           {1, At(10, 2), 101.0, 0, 0, 12.0, 0},
                                           {2, At(10, 1), 102.0, 30, 300, 20.0, 2},
                                           {2, At(10, 2), 103.0, 20, 200, 30.0, 1}}};
  const auto out = Compute(*module, day, universe);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(Int64s(*out, "InstrumentId"), (std::vector<int64_t>{7, 7}));
  ExpectSeries(Doubles(*out, "Volume"), {40, 20});      // flows: sum
  ExpectSeries(Doubles(*out, "Notional"), {400, 200});  // flows: sum
  EXPECT_EQ(Int64s(*out, "Count"), (std::vector<int64_t>{3, 1}));
  ExpectSeries(Doubles(*out, "SpreadBps"), {(10 * 100 + 20 * 300) / 400.0, 30});  // notional-weighted
  ExpectSeries(Doubles(*out, "Close"), {102, 103});  // override: last (ListingId order)

  // Per-day weights: each listing weighs its day's notional (100 and 500) in every bucket.
  ConfigDiagnostics diag2("test.yaml");
  auto daily = CreateReaggregateModule(
      YamlValue{YAML::Load("{source: bars, group_by: InstrumentId, weight: Notional, weighting: day}"),
                "passes[1].modules.reaggregate",
                {}},
      context, &diag2);
  ASSERT_NE(daily, nullptr);
  const auto out2 = Compute(*daily, day, universe);
  ASSERT_NE(out2, nullptr);
  ExpectSeries(Doubles(*out2, "SpreadBps"), {(10 * 100 + 20 * 500) / 600.0, (12 * 100 + 30 * 500) / 600.0});
  ExpectSeries(Doubles(*out2, "Close"), {(100 * 100 + 102 * 500) / 600.0, (101 * 100 + 103 * 500) / 600.0});
}

TEST(GroupListings, KeyOrderAndNullKeysLeftOut) {
  arrow::Int64Builder ids, instruments;
  for (int64_t id : {5, 1, 3, 2}) ASSERT_TRUE(ids.Append(id).ok());
  ASSERT_TRUE(instruments.Append(20).ok());
  ASSERT_TRUE(instruments.Append(30).ok());
  ASSERT_TRUE(instruments.AppendNull().ok());
  ASSERT_TRUE(instruments.Append(20).ok());
  auto table = arrow::Table::Make(arrow::schema({arrow::field("ListingId", arrow::int64()),
                                                 arrow::field("InstrumentId", arrow::int64())}),
                                  {*ids.Finish(), *instruments.Finish()});
  const std::vector<std::string> keys{"InstrumentId"};
  auto groups = GroupListings(*table, keys);
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(groups->size(), 2);
  EXPECT_EQ(groups->group_of.at(5), 0);
  EXPECT_EQ(groups->group_of.at(2), 0);
  EXPECT_EQ(groups->group_of.at(1), 1);
  EXPECT_EQ(groups->excluded, (std::vector<int64_t>{3}));
}

}  // namespace
}  // namespace intraday
