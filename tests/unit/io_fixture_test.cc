// The real vendor sample files are read exactly as they are: row counts, key columns, and
// timestamps converted from their stored unit (ms, us, ns) to int64 nanoseconds.
#include <arrow/array.h>
#include <arrow/filesystem/localfs.h>
#include <arrow/record_batch.h>
#include <arrow/table.h>
#include <gtest/gtest.h>

#include "io/table_reader.h"
#include "test_support.h"

namespace intraday {
namespace {

std::shared_ptr<arrow::RecordBatch> ReadWhole(const std::string& path, Table table,
                                              std::vector<std::string> columns) {
  auto fs = std::make_shared<arrow::fs::LocalFileSystem>();
  TableReadOptions options;
  options.columns = std::move(columns);
  auto reader = TableFileReader::Open(fs, path, path, table, options);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return nullptr;
  auto batches = (*reader)->ReadAll();
  EXPECT_TRUE(batches.ok()) << batches.status().ToString();
  auto combined = arrow::Table::FromRecordBatches((*reader)->schema(), *batches);
  EXPECT_TRUE(combined.ok());
  auto batch = (*combined)->CombineChunksToBatch();
  EXPECT_TRUE(batch.ok());
  return *batch;
}

int64_t Int64At(const arrow::RecordBatch& batch, const std::string& column, int64_t row) {
  const auto& array = *batch.GetColumnByName(column);
  return static_cast<const arrow::Int64Array&>(*array.View(arrow::int64()).ValueOrDie()).Value(row);
}

void ExpectNanoTimestamp(const arrow::RecordBatch& batch, const std::string& column) {
  const auto& type = *batch.schema()->GetFieldByName(column)->type();
  ASSERT_EQ(type.id(), arrow::Type::TIMESTAMP) << column;
  EXPECT_EQ(static_cast<const arrow::TimestampType&>(type).unit(), arrow::TimeUnit::NANO) << column;
}

TEST(FixtureRead, TradesPlus) {
  INTRADAY_REQUIRE_SAMPLE_DAY(dir);
  auto batch =
      ReadWhole(dir + "/trades-plus.parquet", Table::kTrades,
                {"ListingId", "TradeTimestamp", "TradeDate", "TradeTimestampNanoseconds", "Price", "Size",
                 "TradeNotional", std::string(kLocalPriceColumn), "AggressorSide", "Classification"});
  ASSERT_NE(batch, nullptr);
  ASSERT_EQ(batch->num_rows(), 50);
  for (auto c : {"TradeTimestamp", "TradeDate", "TradeTimestampNanoseconds"}) ExpectNanoTimestamp(*batch, c);
  EXPECT_EQ(Int64At(*batch, "ListingId", 0), 121317);
  // Stored in microseconds: 1767355205346695 us.
  EXPECT_EQ(Int64At(*batch, "TradeTimestamp", 0), 1767355205346695000);
  // Stored in milliseconds: midnight of 2026-01-02.
  EXPECT_EQ(Int64At(*batch, "TradeDate", 0), 1767312000000000000);
  EXPECT_EQ(Int64At(*batch, "TradeTimestampNanoseconds", 0), 1767355205346695454);
  // The microsecond column is the nanosecond one truncated, on every row.
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    EXPECT_EQ(Int64At(*batch, "TradeTimestamp", i),
              Int64At(*batch, "TradeTimestampNanoseconds", i) / 1000 * 1000);
  }
  const auto& local = static_cast<const arrow::DoubleArray&>(*batch->GetColumnByName("LocalPrice"));
  const auto& notional = static_cast<const arrow::DoubleArray&>(*batch->GetColumnByName("TradeNotional"));
  const auto& size = static_cast<const arrow::DoubleArray&>(*batch->GetColumnByName("Size"));
  EXPECT_DOUBLE_EQ(local.Value(0), 39880.0 / 400.0);
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    EXPECT_DOUBLE_EQ(local.Value(i), notional.Value(i) / size.Value(i));
  }
  EXPECT_EQ(batch->GetColumnByName("Classification")->type()->id(), arrow::Type::STRING);
}

TEST(FixtureRead, L2) {
  INTRADAY_REQUIRE_SAMPLE_DAY(dir);
  auto batch = ReadWhole(dir + "/l2.parquet", Table::kL2,
                         {"ListingId", "EventTimestamp", "TimestampNanoseconds", "BidPrice1", "AskPrice1",
                          "BidQuantity10", "AskNumOrders10", "MarketState", "L2EventNo"});
  ASSERT_NE(batch, nullptr);
  ASSERT_EQ(batch->num_rows(), 50);
  ExpectNanoTimestamp(*batch, "EventTimestamp");
  EXPECT_EQ(Int64At(*batch, "EventTimestamp", 0), 1767355200010390000);
  EXPECT_EQ(Int64At(*batch, "TimestampNanoseconds", 0), 1767355200010390662);
  EXPECT_EQ(Int64At(*batch, "EventTimestamp", 49), 1767355205348078000);
  EXPECT_DOUBLE_EQ(static_cast<const arrow::DoubleArray&>(*batch->GetColumnByName("BidPrice1")).Value(0),
                   99.68);
  EXPECT_EQ(batch->GetColumnByName("AskNumOrders10")->type()->id(), arrow::Type::INT32);
}

TEST(FixtureRead, L3) {
  INTRADAY_REQUIRE_SAMPLE_DAY(dir);
  auto batch = ReadWhole(dir + "/l3.parquet", Table::kL3,
                         {"ListingId", "TimestampNanoseconds", "Side", "LobAction", "OrderId", "OldSize",
                          "ExecutionSize", "SizeAhead", "OrderExecuted"});
  ASSERT_NE(batch, nullptr);
  ASSERT_EQ(batch->num_rows(), 50);
  EXPECT_EQ(Int64At(*batch, "TimestampNanoseconds", 0), 1767355200010380922);
  EXPECT_EQ(Int64At(*batch, "TimestampNanoseconds", 49), 1767355205347010134);
  EXPECT_EQ(batch->GetColumnByName("OrderId")->type()->id(), arrow::Type::STRING);
  const auto& side = static_cast<const arrow::Int64Array&>(*batch->GetColumnByName("Side"));
  const auto& action = static_cast<const arrow::Int64Array&>(*batch->GetColumnByName("LobAction"));
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    EXPECT_TRUE(side.Value(i) == 1 || side.Value(i) == 2);
    EXPECT_GE(action.Value(i), 1);
    EXPECT_LE(action.Value(i), 4);
  }
}

TEST(FixtureRead, MarketStateReferenceCbboImbalance) {
  INTRADAY_REQUIRE_SAMPLE_DAY(dir);
  auto states = ReadWhole(dir + "/market-state.parquet", Table::kMarketState,
                          {"ListingId", "TimestampNanoseconds", "MarketState", "MIC"});
  ASSERT_NE(states, nullptr);
  ASSERT_EQ(states->num_rows(), 9);
  EXPECT_EQ(Int64At(*states, "TimestampNanoseconds", 0), 1767338100012119281);
  EXPECT_EQ(static_cast<const arrow::StringArray&>(*states->GetColumnByName("MarketState")).GetView(2),
            "CONTINUOUS_TRADING");

  auto reference = ReadWhole(dir + "/reference.parquet", Table::kReference,
                             {"ListingId", "InstrumentId", "MIC", "Ticker", "IsPrimary", "Date"});
  ASSERT_NE(reference, nullptr);
  ASSERT_EQ(reference->num_rows(), 1);
  EXPECT_EQ(Int64At(*reference, "ListingId", 0), 121317);
  EXPECT_EQ(Int64At(*reference, "InstrumentId", 0), 121429);
  EXPECT_EQ(Int64At(*reference, "Date", 0), 1767312000000000000);  // ms -> ns
  EXPECT_EQ(static_cast<const arrow::StringArray&>(*reference->GetColumnByName("Ticker")).GetView(0), "VOD");

  auto cbbo = ReadWhole(dir + "/cbbo.parquet", Table::kCbbo, {"ListingId", "EventTimestamp", "BidPrice1"});
  ASSERT_NE(cbbo, nullptr);
  EXPECT_EQ(cbbo->num_rows(), 50);
  EXPECT_EQ(Int64At(*cbbo, "EventTimestamp", 0), 1767355200011000000);

  auto imbalance = ReadWhole(dir + "/imbalance.parquet", Table::kImbalance,
                             {"ListingId", "TimestampNanoseconds", "Timestamp"});
  ASSERT_NE(imbalance, nullptr);
  EXPECT_EQ(imbalance->num_rows(), 50);
  EXPECT_EQ(Int64At(*imbalance, "Timestamp", 0), 1767371400081117000);
}

TEST(FixtureRead, AllColumnsOfEveryTable) {
  INTRADAY_REQUIRE_SAMPLE_DAY(dir);
  for (auto [file, table] :
       {std::pair{"trades-plus", Table::kTrades}, std::pair{"l2", Table::kL2}, std::pair{"l3", Table::kL3},
        std::pair{"market-state", Table::kMarketState}, std::pair{"reference", Table::kReference},
        std::pair{"cbbo", Table::kCbbo}, std::pair{"imbalance", Table::kImbalance}}) {
    auto batch = ReadWhole(dir + "/" + file + ".parquet", table, {});
    ASSERT_NE(batch, nullptr) << file;
    for (const auto& field : batch->schema()->fields()) {
      if (field->type()->id() == arrow::Type::TIMESTAMP) ExpectNanoTimestamp(*batch, field->name());
    }
  }
}

TEST(FixtureRead, MissingColumnNamesFileAndColumn) {
  INTRADAY_REQUIRE_SAMPLE_DAY(dir);
  auto fs = std::make_shared<arrow::fs::LocalFileSystem>();
  TableReadOptions options;
  options.columns = {"ListingId", "NoSuchColumn"};
  const std::string path = dir + "/l3.parquet";
  auto reader = TableFileReader::Open(fs, path, path, Table::kL3, options);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("l3.parquet"), std::string::npos);
  EXPECT_NE(reader.status().message().find("NoSuchColumn"), std::string::npos);
}

}  // namespace
}  // namespace intraday
