// Regrouping a record batch by listing: rows of each slot together, in batch order within a
// slot, other listings and null ids dropped, every value kept (nulls, strings, booleans); with
// slots looked up from ListingId or given per row, the same result. Sorting blocks of rows in
// place by time: stable, every column's values and nulls moved, rows outside the block untouched,
// blocks sorted by several threads at once as if one by one.
#include "io/group_rows.h"

#include <thread>

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <gtest/gtest.h>

#include "io/arrow_compute.h"
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

TEST(GroupRows, PlacesRowsBySlotStablyWithTheSameOrderForBothWidths) {
  // Slots 2, 0, 2, dropped, 1, 0, 2 among three slots (slot 1 with one row).
  const std::vector<int32_t> slot_of_row{2, 0, 2, -1, 1, 0, 2};
  std::vector<int64_t> starts;
  std::vector<int64_t> place;
  PlaceRowsBySlot(std::span<const int32_t>(slot_of_row), 3, &starts, &place);
  EXPECT_EQ(starts, (std::vector<int64_t>{0, 2, 3, 6}));
  EXPECT_EQ(place, (std::vector<int64_t>{3, 0, 4, -1, 2, 1, 5}));
  std::vector<int64_t> starts32;
  std::vector<int32_t> place32{9, 9};  // replaced, not appended to
  PlaceRowsBySlot(std::span<const int32_t>(slot_of_row), 3, &starts32, &place32);
  EXPECT_EQ(starts32, starts);
  EXPECT_EQ(place32, (std::vector<int32_t>{3, 0, 4, -1, 2, 1, 5}));
  // An empty slot and no rows at all.
  PlaceRowsBySlot(std::span<const int32_t>(), 2, &starts, &place);
  EXPECT_EQ(starts, (std::vector<int64_t>{0, 0, 0}));
  EXPECT_TRUE(place.empty());
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

// Kept buffers (the shredder's, batch after batch): the same results; the same memory once the
// batch before is released, memory of its own while that batch is still held.
TEST(GroupRows, KeptBuffersAreWrittenAgainOnlyOnceReleased) {
  const auto rows = InterleavedRows();
  const ListingSlots slots = ListingSlots::Numbered({3, 7});
  std::vector<int64_t> starts;
  auto fresh = GroupRowsBySlot(*rows, slots, 2, &starts);
  ASSERT_TRUE(fresh.ok());
  auto values_of = [](const arrow::RecordBatch& batch, int column) {
    return batch.column_data(column)->buffers[1]->data();  // Price: values; MarketState: offsets
  };
  ScatterBuffers buffers;
  auto first = GroupRowsBySlot(*rows, slots, 2, &starts, &buffers);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE((*first)->Equals(**fresh));
  const uint8_t* prices = values_of(**first, 1);
  const uint8_t* offsets = values_of(**first, 2);
  first->reset();

  auto second = GroupRowsBySlot(*rows, slots, 2, &starts, &buffers);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(values_of(**second, 1), prices);
  EXPECT_EQ(values_of(**second, 2), offsets);
  EXPECT_TRUE((*second)->Equals(**fresh));

  auto third = GroupRowsBySlot(*rows, slots, 2, &starts, &buffers);  // the second still held
  ASSERT_TRUE(third.ok());
  EXPECT_NE(values_of(**third, 1), prices);
  EXPECT_TRUE((*third)->Equals(**fresh));
  EXPECT_TRUE((*second)->Equals(**fresh));  // not written over
}

TEST(GroupRows, GivenSlotsMustCoverEveryRow) {
  std::vector<int64_t> starts;
  const std::vector<int32_t> too_few{0, 1};
  auto grouped = GroupRowsBySlots(*InterleavedRows(), too_few, 2, &starts);
  ASSERT_FALSE(grouped.ok());
  EXPECT_NE(grouped.status().message().find("a slot for each of 7 rows"), std::string::npos)
      << grouped.status().ToString();
}

/// `n` rows whose times repeat and run backwards, with a null in every column but Time, values
/// distinct per row (row i: Price i, Tag "t<i>" of varying length, Flag i % 3 == 0, Small i % 100).
std::shared_ptr<arrow::RecordBatch> UnorderedRows(int64_t n) {
  arrow::Int64Builder times;
  arrow::DoubleBuilder prices;
  arrow::StringBuilder tags;
  arrow::BooleanBuilder flags;
  arrow::Int8Builder smalls;
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_TRUE(times.Append((n - i) / 3 * 7 % 50).ok());  // ties, and out of order
    EXPECT_TRUE((i % 5 == 1 ? prices.AppendNull() : prices.Append(static_cast<double>(i))).ok());
    EXPECT_TRUE(
        (i % 7 == 2 ? tags.AppendNull() : tags.Append("t" + std::string(i % 4, 'x') + std::to_string(i)))
            .ok());
    EXPECT_TRUE((i % 11 == 3 ? flags.AppendNull() : flags.Append(i % 3 == 0)).ok());
    EXPECT_TRUE(smalls.Append(static_cast<int8_t>(i % 100)).ok());
  }
  auto schema = arrow::schema({arrow::field("Price", arrow::float64()), arrow::field("Time", arrow::int64()),
                               arrow::field("Tag", arrow::utf8()), arrow::field("Flag", arrow::boolean()),
                               arrow::field("Small", arrow::int8())});
  return arrow::RecordBatch::Make(
      schema, n, {*prices.Finish(), *times.Finish(), *tags.Finish(), *flags.Finish(), *smalls.Finish()});
}

/// What sorting rows [begin, end) of `rows` stably by Time gives, built with Arrow's own sort.
std::shared_ptr<arrow::RecordBatch> SortedByArrow(const std::shared_ptr<arrow::RecordBatch>& rows,
                                                  const std::vector<std::pair<int64_t, int64_t>>& blocks) {
  EXPECT_TRUE(EnsureComputeInitialized().ok());
  arrow::RecordBatchVector parts;
  int64_t at = 0;
  for (const auto& [begin, end] : blocks) {
    if (begin > at) parts.push_back(rows->Slice(at, begin - at));
    auto block = rows->Slice(begin, end - begin);
    auto order = arrow::compute::SortIndices(*block->column(1));  // stable
    EXPECT_TRUE(order.ok());
    auto taken = arrow::compute::Take(block, *order);
    EXPECT_TRUE(taken.ok());
    parts.push_back(taken->record_batch());
    at = end;
  }
  if (at < rows->num_rows()) parts.push_back(rows->Slice(at));
  auto table = arrow::Table::FromRecordBatches(parts);
  EXPECT_TRUE(table.ok());
  auto combined = (*table)->CombineChunksToBatch();
  EXPECT_TRUE(combined.ok());
  return *combined;
}

TEST(SortBlockInPlace, SortsOneBlockStablyAndLeavesTheOtherRows) {
  const auto rows = UnorderedRows(40);
  ASSERT_TRUE(CheckSortableInPlace(*rows, 1).ok());
  const auto want = SortedByArrow(rows, {{5, 33}});
  auto sorted = SortBlockInPlace(*rows, 1, 5, 33);
  ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
  EXPECT_TRUE(*sorted);
  ASSERT_TRUE(rows->ValidateFull().ok());
  EXPECT_TRUE(rows->Equals(*want)) << rows->ToString() << "\nwant\n" << want->ToString();
  // Sorted already: nothing to do.
  auto again = SortBlockInPlace(*rows, 1, 5, 33);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST(SortBlockInPlace, BlocksSortedByThreadsAtOnceGiveWhatOneByOneGives) {
  // Blocks of odd lengths, so that the bits of nulls and booleans of two blocks share bytes.
  const auto rows = UnorderedRows(4001);
  std::vector<std::pair<int64_t, int64_t>> blocks;
  for (int64_t begin = 0; begin < rows->num_rows();) {
    const int64_t end = std::min(rows->num_rows(), begin + 3 + begin % 13);
    blocks.emplace_back(begin, end);
    begin = end;
  }
  const auto want = SortedByArrow(rows, blocks);
  std::vector<std::thread> threads;
  std::vector<Status> status(4);
  for (size_t w = 0; w < status.size(); ++w) {
    threads.emplace_back([&, w] {
      for (size_t b = w; b < blocks.size(); b += status.size()) {
        auto done = SortBlockInPlace(*rows, 1, blocks[b].first, blocks[b].second);
        if (!done.ok()) status[w] = done.status();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& st : status) ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(rows->ValidateFull().ok());
  EXPECT_TRUE(rows->Equals(*want));
}

TEST(SortBlockInPlace, RefusesWhatItCannotMove) {
  arrow::ListBuilder lists(arrow::default_memory_pool(), std::make_shared<arrow::Int64Builder>());
  arrow::Int64Builder times;
  ASSERT_TRUE(lists.AppendNull().ok() && times.Append(1).ok());
  auto schema = arrow::schema(
      {arrow::field("Time", arrow::int64()), arrow::field("Levels", arrow::list(arrow::int64()))});
  auto batch = arrow::RecordBatch::Make(schema, 1, {*times.Finish(), *lists.Finish()});
  const Status st = CheckSortableInPlace(*batch, 0);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("column Levels"), std::string::npos) << st.ToString();
  // A key with nulls cannot order its rows.
  arrow::Int64Builder null_times;
  ASSERT_TRUE(null_times.Append(2).ok() && null_times.AppendNull().ok());
  auto with_null = arrow::RecordBatch::Make(arrow::schema({arrow::field("Time", arrow::int64())}), 2,
                                            {*null_times.Finish()});
  const Status null_key = CheckSortableInPlace(*with_null, 0);
  ASSERT_FALSE(null_key.ok());
  EXPECT_NE(null_key.message().find("Time: has nulls"), std::string::npos) << null_key.ToString();
}

}  // namespace
}  // namespace intraday
