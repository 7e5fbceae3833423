// book::Columns::Fill (a value for every snapshot, a column at a time, as l2tw reads them) gives
// the same bits as Get row by row, for every family, side and level, on a book with nulls,
// missing levels, crossed and one-sided tops, zero quantities and a level beyond the table.
#include <cmath>
#include <cstring>
#include <random>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/record_batch.h>
#include <gtest/gtest.h>

#include "metrics/book_values.h"

namespace intraday {
namespace {

// An l2 table of levels 1..3 (levels 4.. absent), with `rows` random snapshots.
ListingTable RandomBook(int64_t rows) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<std::shared_ptr<arrow::Field>> fields{arrow::field("EventTimestamp", arrow::int64())};
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  arrow::Int64Builder times;
  for (int64_t i = 0; i < rows; ++i) EXPECT_TRUE(times.Append(i * 1000).ok());
  arrays.push_back(times.Finish().ValueOrDie());
  for (int level = 1; level <= 3; ++level) {
    for (const char* side : {"Bid", "Ask"}) {
      const double base = std::string(side) == "Bid" ? 100.0 - level : 100.0 + level;
      arrow::DoubleBuilder price;
      arrow::Int64Builder quantity;
      arrow::Int32Builder orders;
      for (int64_t i = 0; i < rows; ++i) {
        const double u = unit(rng);
        if (u < 0.1) {
          EXPECT_TRUE(price.AppendNull().ok());
        } else {
          // Sometimes crossed (bid above ask) or non-positive.
          EXPECT_TRUE(price.Append(u < 0.15 ? -1.0 : base + (unit(rng) - 0.5) * 3).ok());
        }
        if (unit(rng) < 0.1) {
          EXPECT_TRUE(quantity.AppendNull().ok());
        } else {
          EXPECT_TRUE(quantity.Append(static_cast<int64_t>(unit(rng) * 4) * 100).ok());  // zeros too
        }
        if (unit(rng) < 0.1) {
          EXPECT_TRUE(orders.AppendNull().ok());
        } else {
          EXPECT_TRUE(orders.Append(static_cast<int32_t>(unit(rng) * 5)).ok());
        }
      }
      const std::string l = std::to_string(level);
      fields.push_back(arrow::field(side + std::string("Price") + l, arrow::float64()));
      arrays.push_back(price.Finish().ValueOrDie());
      fields.push_back(arrow::field(side + std::string("Quantity") + l, arrow::int64()));
      arrays.push_back(quantity.Finish().ValueOrDie());
      fields.push_back(arrow::field(side + std::string("NumOrders") + l, arrow::int32()));
      arrays.push_back(orders.Finish().ValueOrDie());
    }
  }
  // A slice, so that arrays have an offset as the engine's views do.
  auto batch = arrow::RecordBatch::Make(arrow::schema(fields), rows, arrays)->Slice(3);
  return ListingTable(batch, 0);
}

TEST(BookColumns, FillGivesGetsBitsForEveryValue) {
  const ListingTable table = RandomBook(2000);
  const int64_t n = table.size();
  for (int depth : {1, 3, 5}) {
    auto columns = book::Columns::Load(table, depth);
    ASSERT_TRUE(columns.ok()) << columns.status().ToString();
    std::vector<book::Value> values;
    for (const book::Family& family : book::kFamilies) {
      if (family.kind == book::Kind::kMarketState) continue;
      book::Expand(family.kind, depth, &values);
    }
    std::vector<double> filled(static_cast<size_t>(n)), scratch;
    for (const book::Value& v : values) {
      columns->Fill(v, n, filled.data(), &scratch);
      int64_t non_null = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double expected = columns->Get(i, v);
        const double got = filled[static_cast<size_t>(i)];
        ASSERT_EQ(std::memcmp(&expected, &got, sizeof(double)), 0)
            << book::NameOf(v) << " depth " << depth << " row " << i << ": Get " << expected << ", Fill "
            << got;
        non_null += std::isnan(got) ? 0 : 1;
      }
      // Every value is present on some snapshot, except levels beyond the table's three.
      if (book::DepthOf(v) <= 3) {
        EXPECT_GT(non_null, 0) << book::NameOf(v);
      }
    }
  }
}

// A value computed from only the columns InputNames asks for equals the value computed from the
// whole table: a module projecting its l2 input to InputNames loses nothing (the family a value
// needs, its levels 1..l for cumulatives and imbalances, both sides for imbalances and the top).
TEST(BookColumns, EachValueNeedsOnlyItsInputNames) {
  const ListingTable full = RandomBook(500);
  const int64_t n = full.size();
  const auto& batch = full.batch();
  for (const book::Family& family : book::kFamilies) {
    if (family.kind == book::Kind::kMarketState) continue;
    std::vector<book::Value> all;
    book::Expand(family.kind, 3, &all);
    for (const book::Value& v : all) {
      const std::vector<std::string> names = book::Columns::InputNames({v}, false);
      std::vector<int> keep{0};  // EventTimestamp
      for (const auto& name : names) {
        const int i = batch->schema()->GetFieldIndex(name);
        ASSERT_GE(i, 0) << name;
        keep.push_back(i);
      }
      const ListingTable projected(batch->SelectColumns(keep).ValueOrDie(), 0);
      auto whole = book::Columns::Load(full, 3);
      auto part = book::Columns::Load(projected, 3);
      ASSERT_TRUE(whole.ok() && part.ok());
      for (int64_t i = 0; i < n; ++i) {
        const double a = whole->Get(i, v), b = part->Get(i, v);
        ASSERT_TRUE((std::isnan(a) && std::isnan(b)) || a == b)
            << book::NameOf(v) << " row " << i << ": " << a << " from the table, " << b << " from "
            << names.size() << " columns";
      }
      // And no more than the value's own family: a price-only value reads no quantities.
      if (family.kind == book::Kind::kPrice || family.kind == book::Kind::kQuantity ||
          family.kind == book::Kind::kNumOrders) {
        EXPECT_EQ(names, std::vector<std::string>{book::NameOf(v)});
      }
    }
  }
  // Top of book (mids and spreads of the OHLC and volatility options): best prices and quantities.
  EXPECT_EQ(book::Columns::InputNames({}, true),
            (std::vector<std::string>{"BidPrice1", "BidQuantity1", "AskPrice1", "AskQuantity1"}));
  // An imbalance over 1..2 reads levels 1 and 2 of both sides, in column order.
  EXPECT_EQ(book::Columns::InputNames({{book::Kind::kImbalanceOrders, 0, 2}}, false),
            (std::vector<std::string>{"BidNumOrders1", "AskNumOrders1", "BidNumOrders2", "AskNumOrders2"}));
}

}  // namespace
}  // namespace intraday
