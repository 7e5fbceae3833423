// Planning a day end to end on a small lake written here: the universe (reference files, CSV and
// Parquet universe files, filters, missing files), the pass's columns, and PlanDay's batches and
// input strategy (direct, row groups, shred), with the clustering rule and the trading-day check.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/io/file.h>
#include <arrow/table.h>
#include <gtest/gtest.h>
#include <parquet/arrow/writer.h>
#include <parquet/file_reader.h>

#include "plan/history_sizes.h"
#include "plan/planner.h"
#include "plan/row_group_ranges.h"
#include "plan/size_estimator.h"
#include "plan/size_history.h"
#include "plan/strategy.h"
#include "plan/trading_day.h"
#include "plan/universe.h"
#include "test_support.h"

namespace intraday {
namespace {

const Date kMonday = Date::FromYmd(2026, 1, 5);
constexpr size_t kTrades = static_cast<size_t>(Table::kTrades);

void WriteRowGroups(const std::shared_ptr<arrow::Table>& table, const std::string& path,
                    const std::vector<int64_t>& row_groups, bool compress = true) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  auto out = arrow::io::FileOutputStream::Open(path).ValueOrDie();
  parquet::WriterProperties::Builder props;
  if (!compress) props.compression(parquet::Compression::UNCOMPRESSED)->disable_dictionary();
  auto writer =
      parquet::arrow::FileWriter::Open(*table->schema(), arrow::default_memory_pool(), out, props.build())
          .ValueOrDie();
  int64_t offset = 0;
  for (int64_t rows : row_groups) {
    ASSERT_TRUE(writer->NewRowGroup().ok());
    auto slice = table->Slice(offset, rows);
    for (int c = 0; c < slice->num_columns(); ++c)
      ASSERT_TRUE(writer->WriteColumnChunk(slice->column(c)).ok());
    offset += rows;
  }
  ASSERT_EQ(offset, table->num_rows());
  ASSERT_TRUE(writer->Close().ok());
  ASSERT_TRUE(out->Close().ok());
}

// A lake in a temporary directory, in the vendor layout.
class TestLake {
 public:
  const std::string& root() const { return tmp_.path(); }

  std::string PathOf(Table table, Date day, const std::string& mic) const {
    return root() + "/" + ExpandPathTemplate(DefaultPathTemplate(table), table, day, mic).ValueOrDie();
  }

  // A reference file without a MIC column (the file's MIC is the listings' MIC).
  void WriteReference(Date day, const std::string& mic, const std::vector<Listing>& listings) const {
    arrow::Int64Builder id, instrument;
    arrow::StringBuilder ticker, isin, currency;
    arrow::BooleanBuilder primary;
    for (const auto& l : listings) {
      ASSERT_TRUE(id.Append(l.listing_id).ok());
      ASSERT_TRUE(instrument.Append(l.instrument_id).ok());
      ASSERT_TRUE(ticker.Append(l.ticker).ok());
      ASSERT_TRUE(isin.Append(l.isin).ok());
      ASSERT_TRUE(currency.Append(l.currency).ok());
      ASSERT_TRUE(primary.Append(l.is_primary).ok());
    }
    auto schema = arrow::schema(
        {arrow::field("ListingId", arrow::int64()), arrow::field("InstrumentId", arrow::int64()),
         arrow::field("Ticker", arrow::utf8()), arrow::field("ISIN", arrow::utf8()),
         arrow::field("CurrencyCode", arrow::utf8()), arrow::field("IsPrimary", arrow::boolean())});
    WriteRowGroups(
        arrow::Table::Make(schema, {id.Finish().ValueOrDie(), instrument.Finish().ValueOrDie(),
                                    ticker.Finish().ValueOrDie(), isin.Finish().ValueOrDie(),
                                    currency.Finish().ValueOrDie(), primary.Finish().ValueOrDie()}),
        PathOf(Table::kReference, day, mic), {static_cast<int64_t>(listings.size())});
  }

  // Trades: ListingId, TradeTimestamp (µs), Size; one row per id, row groups as given.
  void WriteTrades(Date day, const std::string& mic, const std::vector<int64_t>& ids,
                   const std::vector<int64_t>& row_groups, bool compress = true) const {
    arrow::Int64Builder id;
    arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::MICRO), arrow::default_memory_pool());
    arrow::DoubleBuilder size;
    for (size_t i = 0; i < ids.size(); ++i) {
      ASSERT_TRUE(id.Append(ids[i]).ok());
      ASSERT_TRUE(ts.Append(day.start_ns() / 1000 + 8 * 3600 * 1'000'000LL + static_cast<int64_t>(i)).ok());
      ASSERT_TRUE(size.Append(10.0).ok());
    }
    auto schema = arrow::schema({arrow::field("ListingId", arrow::int64()),
                                 arrow::field("TradeTimestamp", arrow::timestamp(arrow::TimeUnit::MICRO)),
                                 arrow::field("Size", arrow::float64())});
    WriteRowGroups(arrow::Table::Make(schema, {id.Finish().ValueOrDie(), ts.Finish().ValueOrDie(),
                                               size.Finish().ValueOrDie()}),
                   PathOf(Table::kTrades, day, mic), row_groups, compress);
  }

  std::shared_ptr<Lake> Open() const { return Lake::Open(LakeOptions{root(), {}, {}}).ValueOrDie(); }

 private:
  testing::TempDir tmp_;
};

Listing L(int64_t id, int64_t instrument, const std::string& ticker, const std::string& isin = "") {
  Listing l;
  l.listing_id = id;
  l.instrument_id = instrument;
  l.ticker = ticker;
  l.isin = isin;
  l.currency = "GBp";
  l.is_primary = true;
  return l;
}

std::vector<int64_t> IdsOf(const Universe& u) {
  std::vector<int64_t> out;
  for (const auto& l : u.listings) out.push_back(l.listing_id);
  return out;
}

bool Contains(const std::vector<std::string>& warnings, const std::string& text) {
  return std::any_of(warnings.begin(), warnings.end(),
                     [&](const std::string& w) { return w.find(text) != w.npos; });
}

// --- Universe -------------------------------------------------------------------------------

class UniverseResolve : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_.WriteReference(kMonday, "XLON", {L(3, 30, "C"), L(1, 10, "VOD", "GB00BH4HKS39"), L(2, 20, "BARC")});
    lake_.WriteReference(kMonday, "XPAR", {L(12, 120, "BNP"), L(11, 10, "AIR")});
  }
  Result<Universe> Resolve(const UniverseConfig& config, bool strict = false) {
    warnings_.clear();
    return ResolveUniverse(*lake_.Open(), config, strict, kMonday, &warnings_);
  }
  TestLake lake_;
  std::vector<std::string> warnings_;
};

TEST_F(UniverseResolve, EveryListingOfTheReferenceFilesSorted) {
  UniverseConfig config;
  config.mics = {"XLON", "XPAR"};
  auto u = Resolve(config);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(IdsOf(*u), (std::vector<int64_t>{1, 2, 3, 11, 12}));
  EXPECT_EQ(u->mics, (std::vector<std::string>{"XLON", "XPAR"}));
  EXPECT_EQ(u->day, kMonday);
  const Listing& vod = u->listings[0];
  EXPECT_EQ(vod.mic, "XLON");
  EXPECT_EQ(vod.ticker, "VOD");
  EXPECT_EQ(vod.instrument_id, 10);
  EXPECT_EQ(vod.isin, "GB00BH4HKS39");
  EXPECT_EQ(vod.currency, "GBp");
  EXPECT_TRUE(vod.is_primary);
  EXPECT_EQ(u->listings[3].mic, "XPAR");
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(UniverseResolve, ListingMatchingAnyFilterIsKept) {
  UniverseConfig config;
  config.mics = {"XLON", "XPAR"};
  config.listings = {3};
  config.tickers = {"AIR"};
  config.isins = {"GB00BH4HKS39"};
  auto u = Resolve(config);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(IdsOf(*u), (std::vector<int64_t>{1, 3, 11}));

  config = UniverseConfig{};
  config.mics = {"XLON", "XPAR"};
  config.tickers = {"BNP"};
  u = Resolve(config);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(IdsOf(*u), (std::vector<int64_t>{12}));
  EXPECT_EQ(u->mics, (std::vector<std::string>{"XPAR"}));  // only the venues with listings are read
}

TEST_F(UniverseResolve, MissingReferenceFileIsAWarningUnlessStrict) {
  UniverseConfig config;
  config.mics = {"XAMS", "XLON"};
  auto u = Resolve(config);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(IdsOf(*u), (std::vector<int64_t>{1, 2, 3}));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("reference-XAMS-20260105.parquet"), std::string::npos) << warnings_[0];

  auto strict = Resolve(config, /*strict=*/true);
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("reference-XAMS-20260105.parquet"), std::string::npos);
}

TEST_F(UniverseResolve, ListingOnTwoMicsIsKeptOnceWithAWarning) {
  lake_.WriteReference(kMonday, "XPAR", {L(2, 20, "BARC"), L(11, 10, "AIR")});
  UniverseConfig config;
  config.mics = {"XLON", "XPAR"};
  auto u = Resolve(config);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(IdsOf(*u), (std::vector<int64_t>{1, 2, 3, 11}));
  EXPECT_EQ(u->listings[1].mic, "XLON");
  EXPECT_TRUE(Contains(warnings_, "ListingId 2 is listed on both XLON and XPAR"));
}

TEST_F(UniverseResolve, CsvUniverseFile) {
  const std::string csv = lake_.root() + "/universe.csv";
  std::ofstream(csv) << "Ticker,MIC,ListingId,IsPrimary,InstrumentId\n"
                        "VOD,XLON,5,true,50\n"
                        "0001,XPAR,3,0,\n"
                        "VOD,XLON,5,true,50\n";
  UniverseConfig config;
  config.file = csv;
  auto u = Resolve(config);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(IdsOf(*u), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(u->mics, (std::vector<std::string>{"XLON", "XPAR"}));
  EXPECT_EQ(u->listings[0].ticker, "0001");  // stays text
  EXPECT_EQ(u->listings[0].instrument_id, 0);
  EXPECT_FALSE(u->listings[0].is_primary);
  EXPECT_EQ(u->listings[1].instrument_id, 50);
  EXPECT_TRUE(u->listings[1].is_primary);

  config.mics = {"XLON"};  // with mics too, only their rows
  u = Resolve(config);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(IdsOf(*u), (std::vector<int64_t>{5}));
}

TEST_F(UniverseResolve, CsvErrorsNameTheFileAndTheColumn) {
  const std::string no_mic = lake_.root() + "/no_mic.csv";
  std::ofstream(no_mic) << "ListingId,Ticker\n1,VOD\n";
  UniverseConfig config;
  config.file = no_mic;
  auto u = Resolve(config);
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find(no_mic), std::string::npos) << u.status().ToString();
  EXPECT_NE(u.status().message().find("'MIC'"), std::string::npos) << u.status().ToString();

  const std::string bad = lake_.root() + "/bad.csv";
  std::ofstream(bad) << "ListingId,MIC\n1,XLON\nabc,XLON\n";
  config.file = bad;
  u = Resolve(config);
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find(bad), std::string::npos) << u.status().ToString();
  EXPECT_NE(u.status().message().find("row 2"), std::string::npos) << u.status().ToString();
  EXPECT_NE(u.status().message().find("'ListingId'"), std::string::npos) << u.status().ToString();
}

TEST_F(UniverseResolve, ParquetUniverseFile) {
  arrow::Int64Builder id;
  arrow::StringBuilder mic;
  ASSERT_TRUE(id.AppendValues({9, 4}).ok());
  ASSERT_TRUE(mic.AppendValues({"XPAR", "XLON"}).ok());
  auto schema =
      arrow::schema({arrow::field("ListingId", arrow::int64()), arrow::field("MIC", arrow::utf8())});
  const std::string path = lake_.root() + "/universe.parquet";
  WriteRowGroups(arrow::Table::Make(schema, {id.Finish().ValueOrDie(), mic.Finish().ValueOrDie()}), path,
                 {2});
  UniverseConfig config;
  config.file = path;
  auto u = Resolve(config);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(IdsOf(*u), (std::vector<int64_t>{4, 9}));
  EXPECT_EQ(u->listings[1].mic, "XPAR");
}

// --- Columns, trading days, clustering ------------------------------------------------------

class FakeModule final : public Module {
 public:
  FakeModule(std::vector<InputTable> inputs, bool groups) : inputs_(std::move(inputs)), groups_(groups) {}
  std::string_view name() const override { return "fake"; }
  const std::vector<InputTable>& inputs() const override { return inputs_; }
  const std::vector<OutputColumn>& outputs() const override { return outputs_; }
  bool groups_by_instrument() const override { return groups_; }
  Status Compute(const ListingDay&, OutputBlock&) const override { return Status::OK(); }

 private:
  std::vector<InputTable> inputs_;
  std::vector<OutputColumn> outputs_;
  bool groups_;
};

TEST(PlanColumns, UnionOfModuleInputsPlusKeysInCatalogueOrder) {
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(std::make_unique<FakeModule>(
      std::vector<InputTable>{{Table::kL3, {"Side", "Price"}}, {Table::kTrades, {"Size"}}}, false));
  modules.push_back(std::make_unique<FakeModule>(
      std::vector<InputTable>{{Table::kTrades, {"Price", "Size", "ListingId"}}}, false));
  PassConfig pass;
  pass.timeline = Timeline::kSparse;
  auto columns = PassColumns(modules, pass);
  ASSERT_EQ(columns.size(), 2u);
  EXPECT_EQ(columns[0].table, Table::kTrades);
  EXPECT_EQ(columns[0].columns, (std::vector<std::string>{"ListingId", "TradeTimestamp", "Size", "Price"}));
  EXPECT_EQ(columns[1].table, Table::kL3);
  EXPECT_EQ(columns[1].columns,
            (std::vector<std::string>{"ListingId", "TimestampNanoseconds", "Side", "Price"}));
  EXPECT_FALSE(PassGroupsByInstrument(modules));

  pass.timeline = Timeline::kDense;  // sessions come from the market states
  columns = PassColumns(modules, pass);
  ASSERT_EQ(columns.size(), 3u);
  EXPECT_EQ(columns[2].table, Table::kMarketState);
  EXPECT_EQ(columns[2].columns,
            (std::vector<std::string>{"ListingId", "TimestampNanoseconds", "MarketState"}));

  modules.push_back(std::make_unique<FakeModule>(std::vector<InputTable>{{Table::kL2, {}}}, true));
  EXPECT_TRUE(PassGroupsByInstrument(modules));
  EXPECT_EQ(PassColumns(modules, pass)[1].columns, (std::vector<std::string>{"ListingId", "EventTimestamp"}));
}

TEST(PlanTradingDay, WeekendsHolidaysAndTheRangeAreRejectedWithTheReason) {
  DatesConfig dates;
  dates.start = kMonday;
  dates.end = Date::FromYmd(2026, 1, 16);
  dates.holidays = {Date::FromYmd(2026, 1, 7)};
  EXPECT_TRUE(CheckTradingDay(dates, kMonday).ok());
  auto saturday = CheckTradingDay(dates, Date::FromYmd(2026, 1, 10));
  EXPECT_NE(saturday.message().find("not a trading day: a Saturday"), std::string::npos)
      << saturday.ToString();
  auto holiday = CheckTradingDay(dates, Date::FromYmd(2026, 1, 7));
  EXPECT_NE(holiday.message().find("holiday"), std::string::npos) << holiday.ToString();
  auto outside = CheckTradingDay(dates, Date::FromYmd(2026, 1, 19));
  EXPECT_NE(outside.message().find("outside dates 2026-01-05 .. 2026-01-16"), std::string::npos)
      << outside.ToString();
}

InputFile Ranges(std::vector<std::pair<int64_t, int64_t>> ranges, int64_t extra_rows = 0) {
  InputFile f;
  int index = 0;
  for (auto [lo, hi] : ranges) {
    f.row_groups.push_back({index++, lo, hi, 10});
    f.rows += 10;
  }
  f.rows += extra_rows;
  return f;
}

TEST(PlanClustering, SortedRangesMayShareOnlyABoundaryListing) {
  EXPECT_TRUE(CheckClustering(Ranges({{1, 5}, {6, 9}})).clustered);
  EXPECT_TRUE(CheckClustering(Ranges({{1, 5}, {5, 9}})).clustered);          // 5 continues
  EXPECT_TRUE(CheckClustering(Ranges({{1, 5}, {5, 5}, {5, 9}})).clustered);  // 5 spans three
  EXPECT_TRUE(CheckClustering(InputFile{}).clustered);                       // no rows
  auto overlap = CheckClustering(Ranges({{1, 5}, {4, 9}}));
  EXPECT_FALSE(overlap.clustered);
  EXPECT_NE(overlap.reason.find("row groups 0 and 1 overlap"), std::string::npos) << overlap.reason;
  EXPECT_FALSE(CheckClustering(Ranges({{6, 9}, {1, 5}})).clustered);  // disjoint but not sorted
  auto no_stats = CheckClustering(Ranges({{1, 5}}, /*extra_rows=*/10));
  EXPECT_FALSE(no_stats.clustered);
  EXPECT_NE(no_stats.reason.find("without ListingId statistics"), std::string::npos) << no_stats.reason;

  const InputFile file = Ranges({{1, 5}, {5, 9}, {10, 12}});
  EXPECT_EQ(RowGroupsForListings(file, std::vector<int64_t>{5}), (std::vector<int>{0, 1}));
  EXPECT_EQ(RowGroupsForListings(file, std::vector<int64_t>{6, 7}), (std::vector<int>{1}));
  EXPECT_EQ(RowGroupsForListings(file, std::vector<int64_t>{13}), (std::vector<int>{}));
}

TEST(PlanStrategy, EmptyAndSingleBatchDays) {
  EXPECT_EQ(ChooseStrategy({}, {}, {}, 100).strategy, InputStrategy::kDirect);
  Batch only;
  only.listings = {1};
  only.memory_bytes = 2048;
  auto fits = ChooseStrategy({only}, {}, {ListingSize{}}, 4096);
  EXPECT_EQ(fits.strategy, InputStrategy::kDirect);
  EXPECT_EQ(fits.reason, "day fits one worker's budget: 2.0 KiB of 4.0 KiB for data");
  EXPECT_EQ(ToString(InputStrategy::kDirect), "direct");
  EXPECT_EQ(ToString(InputStrategy::kRowGroups), "row_groups");
  EXPECT_EQ(ToString(InputStrategy::kShred), "shred");
}

// --- PlanDay --------------------------------------------------------------------------------

class PlanDayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_.WriteReference(kMonday, "XLON", {L(1, 10, "A"), L(2, 20, "B"), L(3, 30, "C"), L(4, 40, "D")});
    lake_.WriteReference(kMonday, "XPAR", {L(11, 10, "E"), L(12, 50, "F")});
    config_.data.root = lake_.root();
    config_.universe.mics = {"XLON", "XPAR"};
    config_.dates.start = kMonday;
    config_.dates.end = Date::FromYmd(2026, 1, 9);
    PassConfig pass;
    pass.name = "bars";
    pass.bucket_ns = 60 * kNanosPerSecond;
    pass.timeline = Timeline::kSparse;
    config_.passes.push_back(pass);
  }

  // Interleaved trades: listing i of XLON has 100 * i rows, XPAR 11 and 12 have 50 each.
  void WriteInterleavedTrades() {
    std::vector<int64_t> ids;
    for (int round = 0; round < 100; ++round) {
      for (int64_t id = 1; id <= 4; ++id) {
        for (int64_t k = 0; k < id; ++k) ids.push_back(id);
      }
    }
    lake_.WriteTrades(kMonday, "XLON", ids, {500, 500});
    std::vector<int64_t> par;
    for (int i = 0; i < 100; ++i) par.push_back(11 + i % 2);
    lake_.WriteTrades(kMonday, "XPAR", par, {100});
  }

  // The same rows sorted by listing, one row group per listing.
  void WriteClusteredTrades() {
    std::vector<int64_t> ids;
    std::vector<int64_t> groups;
    for (int64_t id = 1; id <= 4; ++id) {
      for (int64_t k = 0; k < 100 * id; ++k) ids.push_back(id);
      groups.push_back(100 * id);
    }
    lake_.WriteTrades(kMonday, "XLON", ids, groups);
    std::vector<int64_t> par(50, 11);
    par.insert(par.end(), 50, 12);
    lake_.WriteTrades(kMonday, "XPAR", par, {50, 50});
  }

  Result<DayPlan> Plan(uint64_t budget, std::string cache_dir = "", std::string history_dir = "") {
    config_.run.memory_per_worker = budget;
    PlanRequest request;
    request.config = &config_;
    request.pass = &config_.passes[0];
    request.columns = {TableColumns{Table::kTrades, {"ListingId", "TradeTimestamp", "Size"}}};
    request.day = kMonday;
    request.size_cache_dir = std::move(cache_dir);
    request.size_history_dir = std::move(history_dir);
    request.worker_threads = kThreads;
    request.worker_slots = worker_slots_;
    return PlanDay(*lake_.Open(), request);
  }

  int worker_slots_ = 1;  // the run's workers (PlanRequest::worker_slots)

  // A shredded batch holds copies of its kThreads largest listings.
  static constexpr int kThreads = 2;

  // Each listing's decoded input: rows x 3 columns of 8.125 bytes.
  static uint64_t InputOf(int64_t rows) { return static_cast<uint64_t>(std::ceil(rows * 3 * 8.125)); }
  // ... and its worker memory: the input x the overhead factor.
  static uint64_t MemoryOf(int64_t rows) { return WorkerMemoryOf(InputOf(rows)); }

  TestLake lake_;
  PipelineConfig config_;
};

void ExpectCoversUniverseInOrder(const DayPlan& plan) {
  std::vector<int64_t> all;
  for (size_t i = 0; i < plan.batches.size(); ++i) {
    EXPECT_EQ(plan.batches[i].id, static_cast<int>(i));
    all.insert(all.end(), plan.batches[i].listings.begin(), plan.batches[i].listings.end());
  }
  EXPECT_EQ(all, IdsOf(plan.universe));
}

// Overwrites the ListingId data of XPAR's trades with garbage, keeping a valid footer: the file
// can then be sized from its footer only.
void CorruptListingIdData(const std::string& path) {
  auto metadata = parquet::ReadMetaData(arrow::io::ReadableFile::Open(path).ValueOrDie());
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(metadata->RowGroup(0)->ColumnChunk(0)->data_page_offset());
  const std::string garbage(64, '\xff');
  f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
}

// XPAR's trades of kMonday (listings 11 and 12, 50 rows each), their ListingId data garbage.
void WriteXparTradesWithGarbageListingIds(TestLake& lake) {
  std::vector<int64_t> par;
  for (int i = 0; i < 100; ++i) par.push_back(11 + i % 2);
  lake.WriteTrades(kMonday, "XPAR", par, {100}, /*compress=*/false);
  CorruptListingIdData(lake.PathOf(Table::kTrades, kMonday, "XPAR"));
}

TEST_F(PlanDayTest, DirectWhenTheDayFitsOneWorker) {
  WriteInterleavedTrades();
  config_.run.size_estimates = SizeEstimates::kScan;  // every listing counted (auto: next test)
  auto plan = Plan(uint64_t{1} << 30);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->pass, "bars");
  EXPECT_EQ(plan->day, kMonday);
  EXPECT_EQ(IdsOf(plan->universe), (std::vector<int64_t>{1, 2, 3, 4, 11, 12}));
  ASSERT_EQ(plan->files.size(), 2u);
  EXPECT_EQ(plan->files[0].mic, "XLON");
  EXPECT_EQ(plan->files[0].rows, 1000);
  EXPECT_FALSE(plan->files[0].clustered);
  ASSERT_EQ(plan->sizes.size(), 6u);
  const std::vector<int64_t> rows{100, 200, 300, 400, 50, 50};
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(plan->sizes[i].rows[kTrades], rows[i]) << i;
    EXPECT_EQ(plan->sizes[i].memory_bytes, MemoryOf(rows[i])) << i;
    EXPECT_TRUE(plan->sizes[i].estimated);
  }
  ASSERT_EQ(plan->batches.size(), 1u);
  EXPECT_EQ(plan->batches[0].rows[kTrades], 1100);
  EXPECT_EQ(plan->strategy, InputStrategy::kDirect);
  EXPECT_NE(plan->strategy_reason.find("day fits one worker's budget"), std::string::npos)
      << plan->strategy_reason;
  EXPECT_EQ(plan->memory_budget, uint64_t{1} << 30);
  EXPECT_TRUE(plan->warnings.empty());
}

TEST_F(PlanDayTest, AutoPlansADayWhoseFilesFitWholeFromTheirFootersAlone) {
  WriteInterleavedTrades();
  // XPAR's ListingId data is garbage: counting its listings would fail (a warning, listings
  // planned alone: UnsizedFileListingsArePlannedAlone); from the footers it is never read.
  WriteXparTradesWithGarbageListingIds(lake_);
  ASSERT_EQ(config_.run.size_estimates, SizeEstimates::kAuto);  // the default
  const std::string cache = lake_.root() + "/scratch/size-cache";
  auto plan = Plan(uint64_t{1} << 30, cache);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_TRUE(plan->warnings.empty()) << plan->warnings.front();
  ASSERT_TRUE(plan->whole_day.has_value());
  EXPECT_EQ(plan->whole_day->rows[kTrades], 1100);  // every row of both files
  // Each file's bytes, plus a byte per listing of its MIC (4 and 2: counting rounds each up).
  EXPECT_EQ(plan->whole_day->decoded_bytes, InputOf(1000) + 4 + InputOf(100) + 2);
  EXPECT_EQ(plan->whole_day->memory_bytes, WorkerMemoryOf(plan->whole_day->decoded_bytes));
  EXPECT_TRUE(plan->sizes.empty());  // not counted per listing
  ASSERT_EQ(plan->batches.size(), 1u);
  EXPECT_EQ(plan->batches[0].listings, IdsOf(plan->universe));
  EXPECT_EQ(plan->batches[0].rows[kTrades], 1100);
  EXPECT_EQ(plan->batches[0].memory_bytes, plan->whole_day->memory_bytes);
  EXPECT_EQ(plan->strategy, InputStrategy::kDirect);
  EXPECT_NE(plan->strategy_reason.find("fit one worker's budget whole"), std::string::npos)
      << plan->strategy_reason;
  ASSERT_EQ(plan->files.size(), 2u);
  EXPECT_EQ(plan->files[0].rows, 1000);
  EXPECT_FALSE(plan->files[0].clustered);
  const SizeEstimateSummary& s = plan->size_estimates;
  EXPECT_EQ(s.source, "footer");
  EXPECT_EQ(s.files_from_footer, 2);
  EXPECT_EQ(s.files_profiled + s.files_scanned + s.files_from_history, 0);
  EXPECT_FALSE(std::filesystem::exists(cache));  // nothing profiled, nothing cached

  // The bound is of the files, not of the universe: two listings (one per MIC) whose own rows
  // fit a budget that the files' 1 100 rows do not are counted, and planned from their counts.
  config_.universe.listings = {1, 11};
  auto subset = Plan(2 * MemoryOf(200));
  ASSERT_TRUE(subset.ok()) << subset.status().ToString();
  EXPECT_FALSE(subset->whole_day.has_value());
  EXPECT_EQ(subset->size_estimates.source, "scan");
  EXPECT_TRUE(Contains(subset->warnings, "cannot size"));  // the garbage was read this time
  config_.universe.listings.clear();

  // A row cap below the files' rows: counted too, and packed under the cap.
  config_.run.max_rows_per_table[Table::kTrades] = 1099;
  auto capped = Plan(uint64_t{1} << 30);
  ASSERT_TRUE(capped.ok()) << capped.status().ToString();
  EXPECT_FALSE(capped->whole_day.has_value());
  EXPECT_GT(capped->batches.size(), 1u);
}

TEST_F(PlanDayTest, DirectWhenTheDayFitsAsALakeRead) {
  WriteInterleavedTrades();
  // Data budget (half of a budget this small): the day's 1 100 rows read from the lake exactly.
  // Shredded, its batches would also hold copies of their largest listings.
  auto plan = Plan(2 * MemoryOf(1100));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->batches.size(), 1u);
  EXPECT_EQ(plan->strategy, InputStrategy::kDirect);
  EXPECT_FALSE(plan->batches[0].oversize);
  EXPECT_LE(plan->batches[0].memory_bytes, DataBudget(plan->memory_budget));
}

TEST_F(PlanDayTest, ShredWhenAFileIsNotClustered) {
  WriteInterleavedTrades();
  // Data budget: 800 rows' worth (a budget this small leaves half of it to data), less than the
  // day's 1 100; listing 4 (400 rows) with its copy fits alone.
  auto plan = Plan(2 * MemoryOf(800));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ExpectCoversUniverseInOrder(*plan);
  EXPECT_GT(plan->batches.size(), 1u);
  // Packing fills the data budget: the budget less the worker's own memory (half, this small).
  for (const auto& b : plan->batches) EXPECT_LE(b.memory_bytes, DataBudget(plan->memory_budget));
  EXPECT_EQ(plan->strategy, InputStrategy::kShred);
  // Packed for workers that read spill files: each batch holds its listings and copies of its
  // kThreads largest listings.
  std::map<int64_t, int64_t> rows_of;
  for (const auto& size : plan->sizes) rows_of[size.listing_id] = size.rows[kTrades];
  for (const auto& b : plan->batches) {
    uint64_t memory = 0;
    std::vector<uint64_t> inputs;
    for (int64_t id : b.listings) {
      memory += MemoryOf(rows_of[id]);
      inputs.push_back(InputOf(rows_of[id]));
    }
    std::sort(inputs.begin(), inputs.end(), std::greater<>());
    for (size_t i = 0; i < inputs.size() && i < kThreads; ++i) memory += inputs[i];
    EXPECT_EQ(b.memory_bytes, memory) << "batch " << b.id;
  }
  EXPECT_NE(plan->strategy_reason.find(lake_.PathOf(Table::kTrades, kMonday, "XLON")), std::string::npos)
      << plan->strategy_reason;
  EXPECT_NE(plan->strategy_reason.find("not clustered"), std::string::npos) << plan->strategy_reason;
}

TEST_F(PlanDayTest, WideBatchWhenTheDayFitsSeveralWorkersTogether) {
  WriteInterleavedTrades();
  // As above: one worker's data budget holds 800 rows' worth of the day's 1 100, two workers'
  // together 1 600 (budgets this small leave half to data). Listings counted (auto: next test).
  worker_slots_ = 2;
  config_.run.size_estimates = SizeEstimates::kScan;
  auto plan = Plan(2 * MemoryOf(800));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ExpectCoversUniverseInOrder(*plan);
  ASSERT_EQ(plan->batches.size(), 1u);
  EXPECT_EQ(plan->batches[0].worker_slots, 2);
  EXPECT_EQ(plan->strategy, InputStrategy::kDirect) << plan->strategy_reason;
  EXPECT_NE(plan->strategy_reason.find("budgets of 2 workers together"), std::string::npos)
      << plan->strategy_reason;
  EXPECT_NE(plan->strategy_reason.find("run.wide_batches"), std::string::npos) << plan->strategy_reason;
  // Packed as a lake read (no copies of listings): its listings' memory, within both budgets.
  uint64_t memory = 0;
  for (const auto& size : plan->sizes) memory += size.memory_bytes;
  EXPECT_EQ(plan->batches[0].memory_bytes, memory);
  EXPECT_LE(memory, DataBudget(2 * plan->memory_budget));
  EXPECT_GT(memory, DataBudget(plan->memory_budget));
  EXPECT_EQ(plan->gather_threads, 0);
}

TEST_F(PlanDayTest, AutoPlansAWideBatchFromTheFootersAlone) {
  WriteInterleavedTrades();
  // XPAR's ListingId data is garbage, as in AutoPlansADayWhoseFilesFitWholeFromTheirFootersAlone:
  // a day whose files, whole, fit two workers' budgets together is one wide batch without a
  // count of its listings (which would read the garbage).
  WriteXparTradesWithGarbageListingIds(lake_);
  worker_slots_ = 2;
  auto plan = Plan(2 * MemoryOf(800));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_TRUE(plan->warnings.empty()) << plan->warnings.front();
  ASSERT_TRUE(plan->whole_day.has_value());
  EXPECT_TRUE(plan->sizes.empty());
  ASSERT_EQ(plan->batches.size(), 1u);
  EXPECT_EQ(plan->batches[0].listings, IdsOf(plan->universe));
  EXPECT_EQ(plan->batches[0].worker_slots, 2);
  EXPECT_EQ(plan->batches[0].memory_bytes, plan->whole_day->memory_bytes);
  EXPECT_GT(plan->whole_day->memory_bytes, DataBudget(plan->memory_budget));
  EXPECT_LE(plan->whole_day->memory_bytes, DataBudget(2 * plan->memory_budget));
  EXPECT_EQ(plan->strategy, InputStrategy::kDirect);
  EXPECT_NE(plan->strategy_reason.find("fit the budgets of 2 workers together"), std::string::npos)
      << plan->strategy_reason;
  EXPECT_NE(plan->strategy_reason.find("run.wide_batches"), std::string::npos) << plan->strategy_reason;
  // Per table, the decoded bytes add up to the bound's (the sliced estimate reads them).
  uint64_t table_bytes = 0;
  for (uint64_t bytes : plan->whole_day->table_bytes) table_bytes += bytes;
  EXPECT_EQ(table_bytes, plan->whole_day->decoded_bytes);
  const SizeEstimateSummary& s = plan->size_estimates;
  EXPECT_EQ(s.source, "footer");
  EXPECT_NE(s.reason.find("budgets of 2 workers together"), std::string::npos) << s.reason;
  EXPECT_EQ(s.files_profiled + s.files_scanned + s.files_from_history, 0);

  // Three workers with budgets of 400 rows' worth each: the fewest places that hold the bound.
  worker_slots_ = 3;
  auto three = Plan(2 * MemoryOf(400));
  ASSERT_TRUE(three.ok()) << three.status().ToString();
  ASSERT_TRUE(three->whole_day.has_value());
  EXPECT_EQ(three->batches[0].worker_slots, 3);
  // Without wide batches, or beyond the workers together, the listings are counted.
  worker_slots_ = 2;
  config_.run.wide_batches = false;
  auto off = Plan(2 * MemoryOf(800));
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->whole_day.has_value());
  EXPECT_EQ(off->size_estimates.source, "scan");
  config_.run.wide_batches = true;
  auto beyond = Plan(2 * MemoryOf(400));
  ASSERT_TRUE(beyond.ok()) << beyond.status().ToString();
  EXPECT_FALSE(beyond->whole_day.has_value());
}

TEST_F(PlanDayTest, WideBatchTakesTheFewestWorkersThatHoldTheDay) {
  WriteInterleavedTrades();
  // One worker's data budget: 400 rows' worth; two: 800; three: 1 200 >= the day's 1 100.
  worker_slots_ = 4;
  auto plan = Plan(2 * MemoryOf(400));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->batches.size(), 1u);
  EXPECT_EQ(plan->batches[0].worker_slots, 3);
  EXPECT_NE(plan->strategy_reason.find("budgets of 3 workers together"), std::string::npos)
      << plan->strategy_reason;
  // With two workers the day does not fit their budgets together: it is shredded.
  worker_slots_ = 2;
  plan = Plan(2 * MemoryOf(400));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->strategy, InputStrategy::kShred) << plan->strategy_reason;
  EXPECT_GT(plan->batches.size(), 1u);
  for (const auto& b : plan->batches) EXPECT_EQ(b.worker_slots, 1) << "batch " << b.id;
}

TEST_F(PlanDayTest, NoWideBatchWithOneWorkerOrWhenTurnedOff) {
  WriteInterleavedTrades();
  auto plan = Plan(2 * MemoryOf(800));  // one worker (worker_slots_ 1)
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->strategy, InputStrategy::kShred) << plan->strategy_reason;
  worker_slots_ = 2;
  config_.run.wide_batches = false;
  plan = Plan(2 * MemoryOf(800));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->strategy, InputStrategy::kShred) << plan->strategy_reason;
  EXPECT_GT(plan->batches.size(), 1u);
}

TEST_F(PlanDayTest, RowGroupsWhenEveryFileIsClustered) {
  WriteClusteredTrades();
  auto plan = Plan(MemoryOf(450));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ExpectCoversUniverseInOrder(*plan);
  EXPECT_GT(plan->batches.size(), 1u);
  for (const auto& f : plan->files) EXPECT_TRUE(f.clustered) << f.display_path;
  EXPECT_EQ(plan->strategy, InputStrategy::kRowGroups) << plan->strategy_reason;
  // Packed for workers that read the lake (its row groups) themselves.
  EXPECT_EQ(plan->sizes[0].memory_bytes, MemoryOf(plan->sizes[0].rows[kTrades]));
  // No copies: each batch is its listings' memory.
  for (const auto& b : plan->batches) {
    uint64_t memory = 0;
    for (const auto& size : plan->sizes) {
      if (std::count(b.listings.begin(), b.listings.end(), size.listing_id)) memory += size.memory_bytes;
    }
    EXPECT_EQ(b.memory_bytes, memory) << "batch " << b.id;
  }
  EXPECT_NE(plan->strategy_reason.find("all 2 files are clustered"), std::string::npos)
      << plan->strategy_reason;
}

TEST_F(PlanDayTest, CoarseRowGroupsAreShreddedInstead) {
  // Sorted by listing (clustered) but in one row group: every batch would read the whole file.
  std::vector<int64_t> ids;
  for (int64_t id = 1; id <= 4; ++id) ids.insert(ids.end(), 100, id);
  lake_.WriteTrades(kMonday, "XLON", ids, {400});
  config_.universe.mics = {"XLON"};
  auto plan = Plan(MemoryOf(100));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->batches.size(), 4u);
  EXPECT_TRUE(plan->files[0].clustered);
  EXPECT_EQ(plan->strategy, InputStrategy::kShred);
  EXPECT_NE(plan->strategy_reason.find("too coarse"), std::string::npos) << plan->strategy_reason;
}

TEST_F(PlanDayTest, OversizeListingAloneWithAWarning) {
  WriteInterleavedTrades();
  // Budgets this small leave half to data (DataBudget): 600 rows' worth. The day is shredded, and
  // a listing alone holds its rows and their copy: listing 4 (400 rows) is over, 3 (300) is not.
  auto plan = Plan(2 * MemoryOf(600));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ExpectCoversUniverseInOrder(*plan);
  auto it =
      std::find_if(plan->batches.begin(), plan->batches.end(), [](const Batch& b) { return b.oversize; });
  ASSERT_NE(it, plan->batches.end());
  EXPECT_EQ(it->listings, (std::vector<int64_t>{4}));
  EXPECT_TRUE(Contains(plan->warnings, "listing 4 needs an estimated"));
}

TEST_F(PlanDayTest, RowCapsFromTheConfig) {
  WriteInterleavedTrades();
  config_.run.max_rows_per_table = {{Table::kTrades, 300}};
  auto plan = Plan(uint64_t{1} << 30);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ExpectCoversUniverseInOrder(*plan);
  for (const auto& b : plan->batches) {
    if (!b.oversize) {
      EXPECT_LE(b.rows[kTrades], 300);
    }
  }
  EXPECT_GT(plan->batches.size(), 1u);
}

TEST_F(PlanDayTest, MissingInputFileIsAWarningUnlessStrict) {
  WriteInterleavedTrades();
  config_.run.size_estimates = SizeEstimates::kScan;  // sizes per listing
  std::filesystem::remove(lake_.PathOf(Table::kTrades, kMonday, "XPAR"));
  auto plan = Plan(uint64_t{1} << 30);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->files.size(), 1u);
  EXPECT_TRUE(Contains(plan->warnings, "trades-plus-XPAR-20260105.parquet does not exist"));
  // No file = no data: the XPAR listings are known to be empty, not unknown.
  EXPECT_EQ(plan->sizes.back().rows[kTrades], 0);
  EXPECT_TRUE(plan->sizes.back().estimated);

  config_.data.strict = true;
  auto strict = Plan(uint64_t{1} << 30);
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find(lake_.PathOf(Table::kTrades, kMonday, "XPAR")), std::string::npos)
      << strict.status().ToString();
}

TEST_F(PlanDayTest, UnsizedFileListingsArePlannedAlone) {
  WriteInterleavedTrades();
  // XPAR's trades: the footer is fine, the ListingId data is garbage.
  std::vector<int64_t> par;
  for (int i = 0; i < 100; ++i) par.push_back(11 + i % 2);
  const std::string path = lake_.PathOf(Table::kTrades, kMonday, "XPAR");
  lake_.WriteTrades(kMonday, "XPAR", par, {100}, /*compress=*/false);
  auto metadata = parquet::ReadMetaData(arrow::io::ReadableFile::Open(path).ValueOrDie());
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(metadata->RowGroup(0)->ColumnChunk(0)->data_page_offset());
    const std::string garbage(64, '\xff');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  config_.run.size_estimates = SizeEstimates::kScan;  // auto would not read the ListingIds
  auto plan = Plan(uint64_t{1} << 30);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_TRUE(Contains(plan->warnings, "cannot size " + path));
  EXPECT_FALSE(plan->sizes[4].estimated);
  EXPECT_FALSE(plan->sizes[5].estimated);
  EXPECT_GT(plan->sizes[4].memory_bytes, 0u);  // never zero
  ExpectCoversUniverseInOrder(*plan);
  ASSERT_EQ(plan->batches.size(), 3u);  // the XLON listings together, 11 and 12 alone each
  EXPECT_EQ(plan->batches[1].listings, (std::vector<int64_t>{11}));
  EXPECT_EQ(plan->batches[2].listings, (std::vector<int64_t>{12}));
  EXPECT_NE(plan->strategy, InputStrategy::kDirect);

  config_.data.strict = true;
  EXPECT_FALSE(Plan(uint64_t{1} << 30).ok());
}

TEST_F(PlanDayTest, ARePlanUsesTheSizeCache) {
  WriteInterleavedTrades();
  const std::string cache = lake_.root() + "/scratch/size-cache";
  auto first = Plan(MemoryOf(450), cache);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(cache)) entries += e.path().extension() == ".json";
  EXPECT_EQ(entries, 2u);  // one per input file
  auto second = Plan(MemoryOf(450), cache);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(first->batches.size(), second->batches.size());
  for (size_t i = 0; i < first->batches.size(); ++i) {
    EXPECT_EQ(first->batches[i].listings, second->batches[i].listings);
    EXPECT_EQ(first->batches[i].memory_bytes, second->batches[i].memory_bytes);
  }
  EXPECT_EQ(first->strategy_reason, second->strategy_reason);
}

// Records `n` days before kMonday: listing 1 has 90, 100, 500, 100, ... rows; listing 4 far more
// than today's file holds; the others 10, except the listings in `without`.
std::string RecordHistory(const std::string& root, int n, const std::vector<int64_t>& without = {}) {
  const std::string dir = root + "/out/_size_history";
  auto history = SizeHistory::Open(dir, {}).ValueOrDie();
  const int64_t first[] = {90, 100, 500};
  for (int i = 0; i < n; ++i) {
    RecordedDay day{Date::FromDaysSinceEpoch(kMonday.days_since_epoch() - 1 - i), {}};
    auto& trades = day.rows[Table::kTrades];
    for (int64_t id : {1, 2, 3, 4, 11, 12}) trades[id] = 10;
    trades[1] = i < 3 ? first[i] : 100;
    trades[4] = 5000;
    for (int64_t id : without) trades.erase(id);
    EXPECT_TRUE(history->Record(day).ok());
  }
  return dir;
}

TEST_F(PlanDayTest, SizesFromHistoryReadNoListingIdData) {
  WriteInterleavedTrades();
  // With sizes from the files, XPAR could not be sized (UnsizedFileListingsArePlannedAlone);
  // from history, only its footer is read, so the garbage is never seen.
  WriteXparTradesWithGarbageListingIds(lake_);
  const std::string history = RecordHistory(lake_.root(), 3);
  const std::string cache = lake_.root() + "/out/_size_cache";
  config_.run.size_estimates = SizeEstimates::kHistory;

  auto plan = Plan(MemoryOf(450), cache, history);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_FALSE(Contains(plan->warnings, "cannot size"));
  const std::vector<int64_t> rows{100, 10, 10, 1000, 10, 10};  // medians; listing 4 capped by its file
  ASSERT_EQ(plan->sizes.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(plan->sizes[i].rows[kTrades], rows[i]) << i;
    EXPECT_EQ(plan->sizes[i].memory_bytes, MemoryOf(rows[i])) << i;  // bytes per row from the footer
    EXPECT_EQ(plan->sizes[i].source[kTrades], SizeSource::kHistory) << i;
    EXPECT_TRUE(plan->sizes[i].estimated);
  }
  EXPECT_EQ(plan->files[0].rows, 1000);  // the footer's figures are today's
  ExpectCoversUniverseInOrder(*plan);
  const SizeEstimateSummary& s = plan->size_estimates;
  EXPECT_EQ(s.mode, "history");
  EXPECT_EQ(s.source, "history");
  EXPECT_EQ(s.files_from_history, 2);
  EXPECT_EQ(s.files_profiled, 0);
  EXPECT_EQ(s.files_scanned, 0);
  EXPECT_EQ(s.history_days.size(), 3u);
  EXPECT_NE(s.reason.find("medians of the last 3 recorded days (2026-01-02 .. 2026-01-04)"),
            std::string::npos)
      << s.reason;
  EXPECT_FALSE(std::filesystem::exists(cache));  // the size cache was neither needed nor written

  // The same day with sizes from the files cannot size XPAR: the history really avoided a scan.
  config_.run.size_estimates = SizeEstimates::kScan;
  auto scanned = Plan(MemoryOf(450), cache, history);
  ASSERT_TRUE(scanned.ok());
  EXPECT_FALSE(scanned->sizes[4].estimated);
  EXPECT_EQ(scanned->size_estimates.source, "scan");
  EXPECT_EQ(scanned->sizes[0].source[kTrades], SizeSource::kScan);
}

TEST_F(PlanDayTest, HistoryModeScansTheFilesOfListingsWithoutHistory) {
  WriteInterleavedTrades();
  const std::string history = RecordHistory(lake_.root(), 2, /*without=*/{12});
  config_.run.size_estimates = SizeEstimates::kHistory;
  auto plan = Plan(MemoryOf(450), "", history);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->size_estimates.source, "mixed");
  EXPECT_EQ(plan->size_estimates.files_from_history, 1);
  EXPECT_EQ(plan->size_estimates.files_scanned, 1);
  EXPECT_EQ(plan->sizes[0].source[kTrades], SizeSource::kHistory);
  EXPECT_EQ(plan->sizes[0].rows[kTrades], 100);  // upper median of 90 and 100
  EXPECT_EQ(plan->sizes[5].source[kTrades], SizeSource::kScan);
  EXPECT_EQ(plan->sizes[5].rows[kTrades], 50);  // listing 12: exact, from XPAR's file

  // A missing file is no data, whatever the history says.
  std::filesystem::remove(lake_.PathOf(Table::kTrades, kMonday, "XPAR"));
  auto missing = Plan(MemoryOf(450), "", history);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->sizes[4].rows[kTrades], 0);
  EXPECT_EQ(missing->sizes[4].source[kTrades], SizeSource::kNone);
}

TEST_F(PlanDayTest, AutoUsesHistoryOnlyWithEnoughRecordedDays) {
  WriteInterleavedTrades();
  const std::string few = RecordHistory(lake_.root(), kAutoMinHistoryDays - 1);
  auto plan = Plan(MemoryOf(450), "", few);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(config_.run.size_estimates, SizeEstimates::kAuto);  // the default
  EXPECT_EQ(plan->size_estimates.source, "scan");
  EXPECT_EQ(plan->sizes[0].rows[kTrades], 100);  // exact
  EXPECT_NE(plan->size_estimates.reason.find("fewer than 5"), std::string::npos)
      << plan->size_estimates.reason;

  const std::string enough = RecordHistory(lake_.root(), kAutoMinHistoryDays);
  auto from_history = Plan(MemoryOf(450), "", enough);
  ASSERT_TRUE(from_history.ok());
  EXPECT_EQ(from_history->size_estimates.source, "history");
  EXPECT_EQ(from_history->sizes[3].rows[kTrades], 1000);
  EXPECT_EQ(from_history->size_estimates.files_scanned, 0);
}

TEST_F(PlanDayTest, NotATradingDayIsAnError) {
  WriteInterleavedTrades();
  PlanRequest request;
  request.config = &config_;
  request.pass = &config_.passes[0];
  request.day = Date::FromYmd(2026, 1, 10);
  auto plan = PlanDay(*lake_.Open(), request);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("not a trading day"), std::string::npos);
}

TEST_F(PlanDayTest, InstrumentGroupingKeepsCrossVenueListingsTogether) {
  WriteInterleavedTrades();
  config_.run.memory_per_worker = MemoryOf(450);
  PlanRequest request;
  request.config = &config_;
  request.pass = &config_.passes[0];
  request.columns = {TableColumns{Table::kTrades, {"ListingId", "TradeTimestamp", "Size"}}};
  request.day = kMonday;
  request.group_by_instrument = true;
  auto plan = PlanDay(*lake_.Open(), request);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  // Listings 1 (XLON) and 11 (XPAR) are instrument 10.
  for (const auto& b : plan->batches) {
    const bool has1 = std::count(b.listings.begin(), b.listings.end(), 1) > 0;
    const bool has11 = std::count(b.listings.begin(), b.listings.end(), 11) > 0;
    EXPECT_EQ(has1, has11);
  }
}

// A sliced day's output rows go to local scratch between slices above an eighth of a slice:
// 100 listings' rows of a 128 MiB-slice day (~55 MB) were held until session 25, and their
// worker peaked 35 MiB above the 200-listing day's (docs/benchmarks.md, "Session 25").
TEST(SliceOutputAside, RowsAboveAnEighthOfASliceGoToLocalScratch) {
  constexpr uint64_t kSlice = uint64_t{128} << 20;
  EXPECT_FALSE(SpillSliceOutput(true, kSlice / 8, kSlice));
  EXPECT_TRUE(SpillSliceOutput(true, kSlice / 8 + 1, kSlice));
  EXPECT_TRUE(SpillSliceOutput(true, uint64_t{55} << 20, kSlice));
  EXPECT_FALSE(SpillSliceOutput(false, kSlice, kSlice));  // scratch on S3: held in memory
}

}  // namespace
}  // namespace intraday
