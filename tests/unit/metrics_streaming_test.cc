// Streaming over time (Module::streams_over_time, metrics/listing_slices.h): a listing-day
// computed in time slices gives, for every streaming module, the very values of one call on the
// whole listing-day, whatever the cut: slices of one bucket, of a few, slices without events, a
// book and market state carried over slice boundaries, events exactly on bucket boundaries.
#include <cmath>
#include <cstring>
#include <random>

#include <arrow/builder.h>
#include <arrow/record_batch.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "metrics/listing_day_computer.h"
#include "metrics/listing_slices.h"
#include "metrics/registry.h"

namespace intraday {
namespace {

constexpr int64_t kSecond = 1000000000;
constexpr int64_t kListing = 7;
const Date kDay = *Date::Parse("2026-01-30");

/// A module from YAML options, as a pass config gives them.
std::unique_ptr<Module> MakeModule(const std::string& name, const std::string& options_yaml,
                                   const PassShape& shape) {
  const ModuleInfo* info = FindModule(name);
  EXPECT_NE(info, nullptr) << name;
  ConfigDiagnostics diag("test.yaml");
  YAML::Node options = YAML::Load(options_yaml);
  auto module = info->create(YamlValue{options, "options", diag.LocationOf(options)}, shape, &diag);
  EXPECT_TRUE(diag.ToStatus().ok()) << diag.ToStatus().ToString();
  return module;
}

/// Event times of one table: bursts with long gaps (empty buckets, whole empty slices), ties,
/// and events exactly on bucket boundaries (whole minutes), over 09:00..09:40.
std::vector<int64_t> EventTimes(std::mt19937_64& rng, int n) {
  std::vector<int64_t> times;
  const int64_t start = kDay.start_ns() + 9 * 3600 * kSecond;
  std::uniform_int_distribution<int64_t> second(0, 40 * 60 - 1);
  for (int i = 0; i < n; ++i) {
    int64_t s = second(rng);
    if (s >= 12 * 60 && s < 19 * 60) s -= 7 * 60;  // 09:12..09:19 stays empty
    const int64_t kind = static_cast<int64_t>(rng() % 5);
    int64_t t = start + s * kSecond;
    if (kind == 0) t += static_cast<int64_t>(rng() % kSecond);  // inside a second
    if (kind == 1) t = start + (s / 60) * 60 * kSecond;         // on a bucket boundary
    times.push_back(t);
  }
  times.push_back(start + 25 * 60 * kSecond);  // twice on one boundary
  times.push_back(start + 25 * 60 * kSecond);
  std::sort(times.begin(), times.end());
  return times;
}

std::string Pick(std::mt19937_64& rng, std::initializer_list<const char*> values) {
  return *(values.begin() + static_cast<std::ptrdiff_t>(rng() % values.size()));
}

/// One table of the listing-day with every column `names` asks for, values by column kind.
std::shared_ptr<arrow::RecordBatch> MakeTable(Table table, const std::vector<std::string>& names,
                                              std::mt19937_64& rng, int n) {
  const std::vector<int64_t> times = EventTimes(rng, n);
  const auto rows = static_cast<int64_t>(times.size());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  arrow::FieldVector fields;
  arrow::ArrayVector arrays;
  auto add = [&](const std::string& name, const std::shared_ptr<arrow::Array>& array) {
    fields.push_back(arrow::field(name, array->type()));
    arrays.push_back(array);
  };
  {
    arrow::Int64Builder ids;
    for (int64_t r = 0; r < rows; ++r) EXPECT_TRUE(ids.Append(kListing).ok());
    add("ListingId", ids.Finish().ValueOrDie());
    arrow::TimestampBuilder b(arrow::timestamp(arrow::TimeUnit::NANO), arrow::default_memory_pool());
    for (int64_t t : times) EXPECT_TRUE(b.Append(t).ok());
    add(std::string(SpecOf(table).event_time_column), b.Finish().ValueOrDie());
  }
  double mid = 10.0;
  for (const auto& name : names) {
    if (name == "ListingId" || name == SpecOf(table).event_time_column) continue;
    const ColumnKind kind = KnownColumnKind(table, name).value_or(ColumnKind::kFloat64);
    const bool nullable = unit(rng) < 0.5;
    auto null_here = [&] { return nullable && unit(rng) < 0.1; };
    switch (kind) {
      case ColumnKind::kFloat64: {
        arrow::DoubleBuilder b;
        const bool ask = name.find("Ask") != std::string::npos;
        const bool price = name.find("Price") != std::string::npos || name.find("Mid") != std::string::npos;
        for (int64_t r = 0; r < rows; ++r) {
          mid += (unit(rng) - 0.5) * 0.02;
          double v =
              price ? mid + (ask ? 0.01 : -0.01) * (1 + static_cast<double>(rng() % 3)) : unit(rng) * 1000;
          if (name == "PricePoint") v = unit(rng) * 1.4 - 0.2;
          EXPECT_TRUE((null_here() ? b.AppendNull() : b.Append(v)).ok());
        }
        add(name, b.Finish().ValueOrDie());
        break;
      }
      case ColumnKind::kInt64:
      case ColumnKind::kInt32: {
        arrow::Int64Builder b64;
        arrow::Int32Builder b32;
        for (int64_t r = 0; r < rows; ++r) {
          int64_t v = 1 + static_cast<int64_t>(rng() % 500);
          if (name == "AggressorSide") v = static_cast<int64_t>(rng() % 3);
          if (name == "Side") v = 1 + static_cast<int64_t>(rng() % 3);  // 3: not a side of the book
          if (name == "LobAction") v = 1 + static_cast<int64_t>(rng() % 4);
          if (name == "ExecutionSize" && rng() % 3 != 0) v = 0;
          const bool null = null_here();
          if (kind == ColumnKind::kInt64) {
            EXPECT_TRUE((null ? b64.AppendNull() : b64.Append(v)).ok());
          } else {
            EXPECT_TRUE((null ? b32.AppendNull() : b32.Append(static_cast<int32_t>(v))).ok());
          }
        }
        add(name, kind == ColumnKind::kInt64 ? b64.Finish().ValueOrDie() : b32.Finish().ValueOrDie());
        break;
      }
      case ColumnKind::kBool: {
        arrow::BooleanBuilder b;
        for (int64_t r = 0; r < rows; ++r)
          EXPECT_TRUE((null_here() ? b.AppendNull() : b.Append(rng() % 2 == 0)).ok());
        add(name, b.Finish().ValueOrDie());
        break;
      }
      default: {
        arrow::StringBuilder b;
        for (int64_t r = 0; r < rows; ++r) {
          std::string v = Pick(rng, {"A", "B"});
          if (name == "MarketState") v = Pick(rng, {"CONTINUOUS_TRADING", "CONTINUOUS_TRADING", "AUCTION"});
          if (name == "BMLLParticipantType") v = Pick(rng, {"RETAIL", "INSTITUTIONAL"});
          if (name == "BMLLTradeType") v = Pick(rng, {"LIT", "DARK", "OTC"});
          if (name == "IsBlock") v = Pick(rng, {"TRUE", "FALSE"});
          // MarketState often null, so that the state carried is not the last trade's.
          const bool null = name == "MarketState" ? unit(rng) < 0.4 : null_here();
          EXPECT_TRUE((null ? b.AppendNull() : b.Append(v)).ok());
        }
        add(name, b.Finish().ValueOrDie());
      }
    }
  }
  return arrow::RecordBatch::Make(arrow::schema(fields), rows, arrays);
}

/// Rows of block `b`, [first, first + n), equal to rows [0, n) of `slice`: values bit for bit.
void ExpectSameRows(const OutputBlock& whole, size_t first, const OutputBlock& slice,
                    const std::string& what) {
  ASSERT_EQ(whole.num_columns(), slice.num_columns());
  for (size_t c = 0; c < whole.num_columns(); ++c) {
    const auto& w = whole.column(c);
    const auto& s = slice.column(c);
    for (size_t r = 0; r < slice.rows(); ++r) {
      const std::string where = fmt::format("{}: column {} row {}", what, c, first + r);
      ASSERT_EQ(w.valid[first + r], s.valid[r]) << where;
      if (!s.valid[r]) continue;
      switch (s.type) {
        case ValueType::kFloat64:
          ASSERT_EQ(std::memcmp(&w.f64[first + r], &s.f64[r], sizeof(double)), 0)
              << where << ": " << w.f64[first + r] << " vs " << s.f64[r];
          break;
        case ValueType::kInt64: ASSERT_EQ(w.i64[first + r], s.i64[r]) << where; break;
        case ValueType::kString: ASSERT_EQ(w.str[first + r], s.str[r]) << where; break;
      }
    }
  }
}

struct Pass {
  std::vector<std::pair<std::string, std::string>> modules;  // name, options
  TimelineKind timeline = TimelineKind::kDense;
  BucketAnchor anchor = BucketAnchor::kEnd;
  BucketClosed closed = BucketClosed::kRight;
};

/// How the slices hand in their carried events (SlicedListingDay's forms).
enum class Carry {
  kMixed,        // ComputeSlice and ComputeSliceOnViews in turn, the listing-day keeping them
  kCallerKeeps,  // ComputeSliceOnViews with `carry` every slice: the caller keeps them
};

/// Computes the pass on a random listing-day whole, then in slices of `sizes` buckets (cycled),
/// and checks every slice's rows against the whole. Counts the slices without events.
void CheckSlices(const Pass& pass, uint64_t seed, const std::vector<size_t>& sizes, int* empty_slices,
                 Carry mode) {
  const PassShape shape{TimeGrid(60 * kSecond, pass.anchor, pass.closed), pass.timeline};
  std::vector<std::unique_ptr<Module>> modules;
  for (const auto& [name, options] : pass.modules) {
    modules.push_back(MakeModule(name, options, shape));
    ASSERT_NE(modules.back(), nullptr);
  }
  ASSERT_EQ(StreamBlocker(modules, shape), "");
  // Tables in catalogue order, with every column some module reads; market states for the session.
  std::vector<Table> tables;
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  std::mt19937_64 rng(seed);
  for (const auto& spec : AllTables()) {
    std::vector<std::string> names;
    bool read = spec.table == Table::kMarketState && pass.timeline == TimelineKind::kDense;
    for (const auto& module : modules) {
      for (const auto& input : module->inputs()) {
        if (input.table != spec.table) continue;
        read = true;
        names.insert(names.end(), input.columns.begin(), input.columns.end());
      }
    }
    if (spec.table == Table::kMarketState) names.push_back("MarketState");
    if (!read) continue;
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    tables.push_back(spec.table);
    batches.push_back(MakeTable(spec.table, names, rng, spec.table == Table::kMarketState ? 6 : 400));
  }
  const ListingDayComputer computer(modules, shape, 5 * 60 * kSecond, tables);
  std::vector<ListingTable> views;
  for (size_t i = 0; i < tables.size(); ++i) {
    views.emplace_back(batches[i],
                       batches[i]->schema()->GetFieldIndex(std::string(SpecOf(tables[i]).event_time_column)));
  }
  std::vector<int64_t> labels;
  std::vector<OutputBlock> whole;
  ASSERT_TRUE(computer.Compute(kListing, kDay, views, &labels, &whole).ok());
  ASSERT_GT(labels.size(), 30u);

  SlicedListingDay sliced(computer, kListing, kDay, labels);
  std::vector<std::shared_ptr<arrow::RecordBatch>> kept(tables.size());  // Carry::kCallerKeeps
  std::vector<int64_t> cursor(tables.size(), 0);
  size_t first = 0, step = 0;
  while (first < labels.size()) {
    const size_t last = std::min(labels.size(), first + sizes[step++ % sizes.size()]);
    std::vector<arrow::RecordBatchVector> events(tables.size());
    bool any = false;
    for (size_t i = 0; i < tables.size(); ++i) {
      int64_t end = cursor[i];
      while (end < views[i].size() && shape.grid.LabelOf(views[i].times()[end]) <= labels[last - 1]) ++end;
      // Two pieces, as record batches come from the reader.
      const int64_t mid = cursor[i] + (end - cursor[i]) / 2;
      events[i].push_back(batches[i]->Slice(cursor[i], mid - cursor[i]));
      events[i].push_back(batches[i]->Slice(mid, end - mid));
      any = any || (end > cursor[i] && computer.is_event_table(i));
      cursor[i] = end;
    }
    *empty_slices += any ? 0 : 1;
    std::vector<OutputBlock> blocks;
    Status status;
    if (mode == Carry::kCallerKeeps) {
      std::vector<ListingTable> slice_views(tables.size());
      std::vector<std::shared_ptr<arrow::RecordBatch>> joined_views(tables.size());
      for (size_t i = 0; i < tables.size(); ++i) {
        if (!computer.is_event_table(i)) continue;
        arrow::RecordBatchVector parts;
        if (kept[i] != nullptr) parts.push_back(kept[i]);
        for (const auto& part : events[i]) parts.push_back(part);
        auto joined = arrow::ConcatenateRecordBatches(parts);
        ASSERT_TRUE(joined.ok()) << joined.status().ToString();
        if ((*joined)->num_rows() == 0) continue;
        joined_views[i] = *joined;
        slice_views[i] = ListingTable(
            *joined, (*joined)->schema()->GetFieldIndex(std::string(SpecOf(tables[i]).event_time_column)));
      }
      std::vector<std::vector<int64_t>> carry;
      status = sliced.ComputeSliceOnViews(first, last, std::move(slice_views), &blocks, &carry);
      ASSERT_TRUE(status.ok()) << status.ToString();
      ASSERT_EQ(carry.size(), tables.size());
      for (size_t i = 0; i < tables.size(); ++i) {
        EXPECT_EQ(sliced.carried(i), nullptr);
        ASSERT_EQ(sliced.carried_count(i), static_cast<int64_t>(carry[i].size()));
        kept[i] = nullptr;
        if (carry[i].empty()) continue;
        auto copied = CopyRows(*joined_views[i], carry[i]);
        ASSERT_TRUE(copied.ok()) << copied.status().ToString();
        kept[i] = *copied;
      }
    } else if (step % 2 == 0) {
      // Every other slice as a caller that places the carried events itself hands them in: one
      // view per table, the carried rows first (the engine's sliced days).
      std::vector<ListingTable> slice_views(tables.size());
      for (size_t i = 0; i < tables.size(); ++i) {
        if (!computer.is_event_table(i)) continue;
        arrow::RecordBatchVector parts;
        if (sliced.carried(i) != nullptr) parts.push_back(sliced.carried(i));
        for (const auto& part : events[i]) parts.push_back(part);
        auto joined = arrow::ConcatenateRecordBatches(parts);
        ASSERT_TRUE(joined.ok()) << joined.status().ToString();
        if ((*joined)->num_rows() == 0) continue;
        slice_views[i] = ListingTable(
            *joined, (*joined)->schema()->GetFieldIndex(std::string(SpecOf(tables[i]).event_time_column)));
      }
      status = sliced.ComputeSliceOnViews(first, last, std::move(slice_views), &blocks);
    } else {
      status = sliced.ComputeSlice(first, last, events, &blocks);
    }
    ASSERT_TRUE(status.ok()) << status.ToString();
    ASSERT_EQ(blocks.size(), whole.size());
    for (size_t m = 0; m < blocks.size(); ++m) {
      ASSERT_EQ(blocks[m].rows(), last - first);
      ExpectSameRows(whole[m], first, blocks[m],
                     fmt::format("module {}, slice [{}, {})", modules[m]->name(), first, last));
    }
    first = last;
  }
}

const std::vector<std::vector<size_t>> kCuts{{1}, {2}, {3}, {5, 1, 2}, {7}};

void CheckAllCuts(const Pass& pass) {
  int empty_slices = 0;
  for (const auto& cut : kCuts) {
    for (uint64_t seed : {1u, 2u, 3u}) {
      SCOPED_TRACE(fmt::format("seed {}, slices of {} buckets", seed, fmt::join(cut, "/")));
      CheckSlices(pass, seed, cut, &empty_slices, Carry::kMixed);
      if (::testing::Test::HasFatalFailure()) return;
      CheckSlices(pass, seed, cut, &empty_slices, Carry::kCallerKeeps);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  // Dense timelines have buckets without events (09:13..09:19 inside the session): the state
  // then comes from the carried events alone.
  if (pass.timeline == TimelineKind::kDense) {
    EXPECT_GT(empty_slices, 0);
  }
}

TEST(StreamingTest, Trade) {
  Pass pass;
  pass.modules = {
      {"trade",
       "{metrics: [TradeTotalVolume, TradeTotalCount, TradeTotalVWAP, Open, High, Low, Close, "
       "TradeTotalMedianPrice, Volatility, MarketState, TradeBuyVolume, VolumeWeightedPricePlacement]}"}};
  CheckAllCuts(pass);
  pass.timeline = TimelineKind::kSparse;
  pass.anchor = BucketAnchor::kStart;
  pass.closed = BucketClosed::kLeft;
  CheckAllCuts(pass);
}

TEST(StreamingTest, TradeDefaultSet) {
  Pass pass;
  pass.modules = {{"trade", "{}"}};
  CheckAllCuts(pass);
}

TEST(StreamingTest, RetailImbalance) {
  Pass pass;
  pass.modules = {{"retail_imbalance", "{}"}};
  CheckAllCuts(pass);
}

TEST(StreamingTest, Activity) {
  Pass pass;
  pass.modules = {{"activity", "{tables: [trades, l2, l3, marketstate]}"}};
  CheckAllCuts(pass);
}

TEST(StreamingTest, Execution) {
  Pass pass;
  pass.modules = {{"execution", "{include: [executions, lit, dark, imbalance]}"}};
  CheckAllCuts(pass);
}

TEST(StreamingTest, L2BookCarriedAndPrevClose) {
  Pass pass;
  pass.modules = {{"l2", "{levels: 2, ohlc: {sources: [mid, weighted_mid], mode: prev_close}}"}};
  CheckAllCuts(pass);
  pass.closed = BucketClosed::kLeft;
  CheckAllCuts(pass);
}

TEST(StreamingTest, L2TimeWeighted) {
  Pass pass;
  pass.modules = {{"l2tw", "{levels: 2, volatility: {sources: [mid, bid]}}"}};
  CheckAllCuts(pass);
  pass.modules = {{"l2tw", "{levels: 2, market_states: [CONTINUOUS_TRADING], volatility: {sources: [ask]}}"}};
  pass.anchor = BucketAnchor::kStart;
  pass.closed = BucketClosed::kLeft;
  CheckAllCuts(pass);
}

TEST(StreamingTest, L3FlowsAndRatios) {
  Pass pass;
  pass.modules = {{"l3", "{}"}};
  CheckAllCuts(pass);
  pass.modules = {{"l3",
                   "{actions: [insert, remove, update, execution], "
                   "advanced: [ArrivalFlowImbalance, CancelToTradeRatio, AvgQueuePosition]}"}};
  pass.timeline = TimelineKind::kSparse;
  CheckAllCuts(pass);
}

TEST(StreamingTest, SeveralModulesShareTables) {
  Pass pass;
  pass.modules = {{"trade", "{}"},
                  {"retail_imbalance", "{}"},
                  {"l2", "{levels: 1, ohlc: {sources: [mid], mode: prev_close}}"},
                  {"l2tw", "{levels: 1, volatility: {sources: [mid]}}"},
                  {"activity", "{tables: [trades, l2]}"}};
  CheckAllCuts(pass);
}

TEST(StreamingTest, WhatCannotStream) {
  const PassShape dense{TimeGrid(60 * kSecond, BucketAnchor::kEnd, BucketClosed::kRight),
                        TimelineKind::kDense};
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(MakeModule("trade", "{}", dense));
  EXPECT_EQ(StreamBlocker(modules, dense), "");
  EXPECT_EQ(StreamBlocker(modules, PassShape{DailyGrid(), TimelineKind::kDaily}),
            "the pass's daily timeline has one bucket per day");
  modules.push_back(MakeModule("l3", "{}", dense));
  EXPECT_EQ(StreamBlocker(modules, dense), "");
  // Following orders: an order's lifetime is credited to its insert's bucket when it ends.
  for (const char* advanced : {"AvgRestingTime", "FleetingLiquidityRatio", "AvgReplacementLatency"}) {
    auto module = MakeModule("l3", fmt::format("{{advanced: [{}]}}", advanced), dense);
    EXPECT_FALSE(module->streams_over_time()) << advanced;
  }
  modules.push_back(MakeModule("l3", "{advanced: [AvgRestingTime]}", dense));
  EXPECT_EQ(StreamBlocker(modules, dense), "module l3 does not stream over time");
  // Volatility sampled on a clock: a sampling slot may straddle a slice's start.
  EXPECT_FALSE(MakeModule("l2tw", "{volatility: {sources: [mid], sample: 1s}}", dense)->streams_over_time());
  EXPECT_TRUE(MakeModule("l2tw", "{volatility: {sources: [mid]}}", dense)->streams_over_time());
}

TEST(StreamingTest, SlicesMustComeInOrder) {
  const PassShape shape{TimeGrid(60 * kSecond, BucketAnchor::kEnd, BucketClosed::kRight),
                        TimelineKind::kSparse};
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(MakeModule("trade", "{}", shape));
  const ListingDayComputer computer(modules, shape, 0, {Table::kTrades});
  SlicedListingDay sliced(computer, kListing, kDay, {60 * kSecond, 120 * kSecond, 180 * kSecond});
  std::vector<OutputBlock> blocks;
  const Status status = sliced.ComputeSlice(1, 2, std::vector<arrow::RecordBatchVector>(1), &blocks);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("out of order"), std::string::npos) << status.ToString();
}

// The rows a slice carries into the next (SlicedListingDay), copied out of the slice's batch:
// every column type a table has, nulls, rows in any order, a batch sliced at an offset.
TEST(CopyRows, CopiesTheRowsOfEveryColumnType) {
  arrow::Int64Builder ints;
  arrow::DoubleBuilder doubles;
  arrow::TimestampBuilder times(arrow::timestamp(arrow::TimeUnit::NANO), arrow::default_memory_pool());
  arrow::StringBuilder strings;
  arrow::BooleanBuilder bools;
  arrow::Int32Builder small;
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE((i % 3 == 1 ? ints.AppendNull() : ints.Append(100 + i)).ok());
    ASSERT_TRUE((i == 4 ? doubles.AppendNull() : doubles.Append(0.5 * i)).ok());
    ASSERT_TRUE(times.Append(int64_t{1000} * i).ok());
    ASSERT_TRUE((i == 6 ? strings.AppendNull() : strings.Append(fmt::format("s{}", i))).ok());
    ASSERT_TRUE(bools.Append(i % 2 == 0).ok());
    ASSERT_TRUE(small.Append(-i).ok());
  }
  arrow::ArrayVector arrays(6);
  ASSERT_TRUE(ints.Finish(&arrays[0]).ok());
  ASSERT_TRUE(doubles.Finish(&arrays[1]).ok());
  ASSERT_TRUE(times.Finish(&arrays[2]).ok());
  ASSERT_TRUE(strings.Finish(&arrays[3]).ok());
  ASSERT_TRUE(bools.Finish(&arrays[4]).ok());
  ASSERT_TRUE(small.Finish(&arrays[5]).ok());
  auto schema = arrow::schema({arrow::field("i", arrow::int64()), arrow::field("d", arrow::float64()),
                               arrow::field("t", arrow::timestamp(arrow::TimeUnit::NANO)),
                               arrow::field("s", arrow::utf8()), arrow::field("b", arrow::boolean()),
                               arrow::field("n", arrow::int32())});
  // Sliced at 2: row r of the view is row r + 2 of the arrays.
  const auto batch = arrow::RecordBatch::Make(schema, 9, arrays)->Slice(2);
  const std::vector<int64_t> rows{5, 2, 6, 0};
  auto copied = CopyRows(*batch, rows);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  ASSERT_EQ((*copied)->num_rows(), 4);
  ASSERT_TRUE((*copied)->schema()->Equals(*schema));
  for (int c = 0; c < batch->num_columns(); ++c) {
    for (size_t i = 0; i < rows.size(); ++i) {
      auto want = batch->column(c)->GetScalar(rows[i]);
      auto got = (*copied)->column(c)->GetScalar(static_cast<int64_t>(i));
      ASSERT_TRUE(want.ok() && got.ok());
      EXPECT_TRUE((*got)->Equals(**want)) << schema->field(c)->name() << " row " << rows[i] << ": "
                                          << (*got)->ToString() << " vs " << (*want)->ToString();
    }
    ASSERT_TRUE((*copied)->column(c)->ValidateFull().ok()) << schema->field(c)->name();
  }
  // Rows 5 and 2 of the view (7 and 4 of the arrays): a null int64 and a null double.
  EXPECT_EQ((*copied)->column(0)->null_count(), 2);
  EXPECT_EQ((*copied)->column(1)->null_count(), 1);
  EXPECT_EQ((*copied)->column(2)->null_count(), 0);
}

}  // namespace
}  // namespace intraday
