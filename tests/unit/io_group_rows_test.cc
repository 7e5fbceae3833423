// Regrouping a record batch by listing: rows of each slot together, in batch order within a
// slot, other listings and null ids dropped, every value kept (nulls, strings, booleans); with
// slots looked up from ListingId or given per row, the same result.
#include "io/group_rows.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include "io/listing_slots.h"

namespace intraday {
namespace {

std::shared_ptr<arrow::RecordBatch> InterleavedRows() {
  arrow::Int64Builder ids;
  arrow::DoubleBuilder prices;
  arrow::StringBuilder states;
  arrow::BooleanBuilder flags;
  // Listings 7 and 3 interleaved, one row of an unplanned listing (5) and one null id.
  const std::vector<std::optional<int64_t>> listing{7, 3, 7, 5, std::nullopt, 3, 7};
  for (size_t i = 0; i < listing.size(); ++i) {
    EXPECT_TRUE((listing[i] ? ids.Append(*listing[i]) : ids.AppendNull()).ok());
    EXPECT_TRUE((i % 3 == 2 ? prices.AppendNull() : prices.Append(10.0 + static_cast<double>(i))).ok());
    EXPECT_TRUE((i == 1 ? states.AppendNull() : states.Append("S" + std::to_string(i))).ok());
    EXPECT_TRUE(flags.Append(i % 2 == 0).ok());
  }
  auto schema =
      arrow::schema({arrow::field("ListingId", arrow::int64()), arrow::field("Price", arrow::float64()),
                     arrow::field("MarketState", arrow::utf8()), arrow::field("Flag", arrow::boolean())});
  return arrow::RecordBatch::Make(schema, static_cast<int64_t>(listing.size()),
                                  {*ids.Finish(), *prices.Finish(), *states.Finish(), *flags.Finish()});
}

TEST(GroupRows, BySlotGroupsListingsInBatchOrderAndDropsTheRest) {
  const ListingSlots slots = ListingSlots::Numbered({3, 7});  // 3 -> slot 0, 7 -> slot 1
  std::vector<int64_t> starts;
  auto grouped = GroupRowsBySlot(*InterleavedRows(), slots, 2, &starts);
  ASSERT_TRUE(grouped.ok()) << grouped.status().ToString();
  EXPECT_EQ(starts, (std::vector<int64_t>{0, 2, 5}));
  // Rows 1, 5 (listing 3), then 0, 2, 6 (listing 7).
  const auto& batch = **grouped;
  const auto expected = InterleavedRows();  // the values of each source row
  const std::vector<int64_t> source{1, 5, 0, 2, 6};
  for (int c = 0; c < batch.num_columns(); ++c) {
    for (size_t r = 0; r < source.size(); ++r) {
      auto got = batch.column(c)->GetScalar(static_cast<int64_t>(r));
      auto want = expected->column(c)->GetScalar(source[r]);
      ASSERT_TRUE(got.ok() && want.ok());
      EXPECT_TRUE((*got)->Equals(**want)) << batch.schema()->field(c)->name() << " row " << r;
    }
  }
}

TEST(GroupRows, GivenSlotsGiveWhatTheLookupGives) {
  const auto rows = InterleavedRows();
  const ListingSlots slots = ListingSlots::Numbered({3, 7});
  std::vector<int64_t> looked_up_starts, given_starts;
  auto looked_up = GroupRowsBySlot(*rows, slots, 2, &looked_up_starts);
  const std::vector<int32_t> slot_of_row{1, 0, 1, -1, -1, 0, 1};
  auto without_ids = rows->RemoveColumn(0);
  ASSERT_TRUE(looked_up.ok() && without_ids.ok());
  auto given = GroupRowsBySlots(**without_ids, slot_of_row, 2, &given_starts);
  ASSERT_TRUE(given.ok()) << given.status().ToString();
  EXPECT_EQ(given_starts, looked_up_starts);
  auto looked_up_values = (*looked_up)->RemoveColumn(0);
  ASSERT_TRUE(looked_up_values.ok());
  EXPECT_TRUE((*given)->Equals(**looked_up_values));
}

TEST(GroupRows, GivenSlotsMustCoverEveryRow) {
  std::vector<int64_t> starts;
  const std::vector<int32_t> too_few{0, 1};
  auto grouped = GroupRowsBySlots(*InterleavedRows(), too_few, 2, &starts);
  ASSERT_FALSE(grouped.ok());
  EXPECT_NE(grouped.status().message().find("a slot for each of 7 rows"), std::string::npos)
      << grouped.status().ToString();
}

}  // namespace
}  // namespace intraday
