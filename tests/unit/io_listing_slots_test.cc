#include "io/listing_slots.h"

#include <cstdint>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace intraday {
namespace {

TEST(ListingSlots, BlockOfIdsIsADenseTable) {
  const ListingSlots slots = ListingSlots::Numbered({100007, 100001, 100050});
  EXPECT_TRUE(slots.dense());
  EXPECT_EQ(slots.Find(100007), 0);
  EXPECT_EQ(slots.Find(100001), 1);
  EXPECT_EQ(slots.Find(100050), 2);
  // Inside the range but not a listing, and on both sides of it.
  EXPECT_EQ(slots.Find(100002), -1);
  EXPECT_EQ(slots.Find(100000), -1);
  EXPECT_EQ(slots.Find(100051), -1);
  EXPECT_EQ(slots.Find(-100001), -1);
  EXPECT_EQ(slots.Find(std::numeric_limits<int64_t>::min()), -1);
  EXPECT_EQ(slots.Find(std::numeric_limits<int64_t>::max()), -1);
}

TEST(ListingSlots, SpreadIdsFallBackToAHashMap) {
  const std::vector<int64_t> ids{5, 9'000'000'000, -3, std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max()};
  const ListingSlots slots = ListingSlots::Numbered(ids);
  EXPECT_FALSE(slots.dense());
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(slots.Find(ids[i]), static_cast<int32_t>(i));
  EXPECT_EQ(slots.Find(6), -1);
  EXPECT_EQ(slots.Find(0), -1);
}

TEST(ListingSlots, DenseAndHashGiveTheSameSlots) {
  // The same listings and slots, once spanning a small range and once shifted far apart.
  std::vector<int64_t> near, far;
  std::vector<int32_t> given;
  for (int64_t i = 0; i < 300; ++i) {
    near.push_back(1000 + 7 * i);
    far.push_back(1000 + 7 * i + (i % 2 == 0 ? 0 : (int64_t{1} << 40)));
    given.push_back(static_cast<int32_t>((i * 37) % 300));
  }
  const ListingSlots dense(near, given), hashed(far, given);
  ASSERT_TRUE(dense.dense());
  ASSERT_FALSE(hashed.dense());
  for (size_t i = 0; i < near.size(); ++i) {
    EXPECT_EQ(dense.Find(near[i]), given[i]);
    EXPECT_EQ(hashed.Find(far[i]), given[i]);
    EXPECT_EQ(dense.Find(near[i] + 1), -1);
  }
}

TEST(ListingSlots, RepeatedIdKeepsItsFirstSlotAndNoIdsFindNothing) {
  const ListingSlots slots({4, 4, 8}, {2, 0, 1});
  EXPECT_EQ(slots.Find(4), 2);
  EXPECT_EQ(slots.Find(8), 1);
  const ListingSlots none = ListingSlots::Numbered({});
  EXPECT_EQ(none.Find(4), -1);
}

TEST(RowSlots, KeepsEverySlotAtTheNarrowestWidthTheListingsAllow) {
  // Each width's largest slot, its smallest and "none", in a mixed order.
  for (const auto& [listings, width] :
       std::vector<std::pair<size_t, int>>{{1, 1}, {254, 1}, {255, 2}, {65534, 2}, {65535, 4}, {100000, 4}}) {
    const int32_t top = static_cast<int32_t>(listings) - 1;
    const std::vector<int32_t> given{-1, 0, top, -1, top / 2, top, 0};
    RowSlots slots(listings);
    slots.reserve(given.size());
    for (int32_t slot : given) slots.push_back(slot);
    EXPECT_EQ(slots.width(), width) << listings << " listings";
    ASSERT_EQ(slots.size(), given.size());
    for (size_t r = 0; r < given.size(); ++r)
      EXPECT_EQ(slots[r], given[r]) << listings << " listings, row " << r;
    EXPECT_EQ(slots.Widened(), given);
  }
}

}  // namespace
}  // namespace intraday
