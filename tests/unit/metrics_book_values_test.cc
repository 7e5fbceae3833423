// book::Columns::Fill (a value for every snapshot, a column at a time, as l2tw reads them) gives
// the same bits as Get row by row, for every family, side and level, on a book with nulls,
// missing levels, crossed and one-sided tops, zero quantities and a level beyond the table.
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

}  // namespace
}  // namespace intraday
