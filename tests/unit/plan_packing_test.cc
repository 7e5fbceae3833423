// Bin packing (plan/packing.h): budget and row caps respected, oversize and unknown listings alone
// and reported, instrument groups kept together, batches contiguous and deterministic.
#include <algorithm>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "plan/packing.h"

namespace intraday {
namespace {

constexpr size_t kTradesIndex = static_cast<size_t>(Table::kTrades);
constexpr size_t kL3 = static_cast<size_t>(Table::kL3);

ListingSize Size(int64_t id, uint64_t memory, int64_t trade_rows = 0, int64_t instrument = 0) {
  ListingSize s;
  s.listing_id = id;
  s.instrument_id = instrument;
  s.memory_bytes = memory;
  s.rows[kTradesIndex] = trade_rows;
  s.bytes[kTradesIndex] = memory / 3;
  return s;
}

PackOptions Budget(uint64_t budget) {
  PackOptions options;
  options.memory_budget = budget;
  return options;
}

std::vector<int64_t> AllListings(const PackResult& result) {
  std::vector<int64_t> out;
  for (const auto& b : result.batches) out.insert(out.end(), b.listings.begin(), b.listings.end());
  return out;
}

// Every batch id is its position; every listing appears once.
void ExpectWellFormed(const PackResult& result, std::span<const ListingSize> sizes) {
  for (size_t i = 0; i < result.batches.size(); ++i) {
    EXPECT_EQ(result.batches[i].id, static_cast<int>(i));
    EXPECT_FALSE(result.batches[i].listings.empty());
    EXPECT_TRUE(std::is_sorted(result.batches[i].listings.begin(), result.batches[i].listings.end()));
  }
  std::vector<int64_t> got = AllListings(result);
  std::sort(got.begin(), got.end());
  std::vector<int64_t> want;
  for (const auto& s : sizes) want.push_back(s.listing_id);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

// The result's only warning says `text`.
void ExpectOneWarning(const PackResult& result, std::string_view text) {
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_NE(result.warnings[0].find(text), std::string::npos) << result.warnings[0];
}

TEST(PackListings, GreedyUnderBudgetAndContiguous) {
  std::vector<ListingSize> sizes;
  for (int64_t id = 1; id <= 10; ++id) sizes.push_back(Size(id, 40));
  const PackResult result = PackListings(sizes, Budget(100));
  ExpectWellFormed(result, sizes);
  // 40 + 40 fits 100, a third would not: pairs.
  ASSERT_EQ(result.batches.size(), 5u);
  for (const auto& b : result.batches) {
    EXPECT_LE(b.memory_bytes, 100u);
    EXPECT_EQ(b.memory_bytes, 80u);
    EXPECT_FALSE(b.oversize);
  }
  // Contiguous: concatenating batches in order gives the sorted universe.
  EXPECT_EQ(AllListings(result), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_TRUE(result.warnings.empty());
}

TEST(PackListings, SpillReadersAddCopiesOfTheirLargestListings) {
  // Inputs (memory / 3): 10, 30, 20, 20. With 2 gather threads a batch adds its 2 largest
  // listings' inputs to its listings' memory.
  std::vector<ListingSize> sizes{Size(1, 30), Size(2, 90), Size(3, 60), Size(4, 60)};
  PackOptions options = Budget(200);
  options.gather_threads = 2;
  const PackResult result = PackListings(sizes, options);
  ExpectWellFormed(result, sizes);
  // {1, 2}: 120 + 30 + 10 = 160; adding 3: 180 + 30 + 20 = 230 > 200. {3, 4}: 120 + 40 = 160.
  ASSERT_EQ(result.batches.size(), 2u);
  EXPECT_EQ(result.batches[0].listings, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(result.batches[0].memory_bytes, 160u);
  EXPECT_EQ(result.batches[1].listings, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(result.batches[1].memory_bytes, 160u);
  // Lake readers copy nothing: all four fit (240 > 200: three do).
  const PackResult lake = PackListings(sizes, Budget(200));
  ASSERT_EQ(lake.batches.size(), 2u);
  EXPECT_EQ(lake.batches[0].listings, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(lake.batches[0].memory_bytes, 180u);
  // One gather thread: only the largest listing's copy ({1, 2, 3} would be 180 + 30 = 210).
  options.gather_threads = 1;
  const PackResult one = PackListings(sizes, options);
  ASSERT_EQ(one.batches.size(), 2u);
  EXPECT_EQ(one.batches[0].memory_bytes, 150u);
  EXPECT_EQ(one.batches[1].memory_bytes, 140u);
  // A listing alone holds its copy too: 150 + 50 is over a budget of 180 that 150 fits.
  const std::vector<ListingSize> big{Size(1, 150)};
  options.memory_budget = 180;
  const PackResult alone = PackListings(big, options);
  ASSERT_EQ(alone.batches.size(), 1u);
  EXPECT_TRUE(alone.batches[0].oversize);
  EXPECT_EQ(alone.batches[0].memory_bytes, 200u);
  EXPECT_FALSE(PackListings(big, Budget(180)).batches[0].oversize);
}

TEST(PackListings, ExactFitAndSingleBatch) {
  std::vector<ListingSize> sizes{Size(1, 50), Size(2, 50)};
  EXPECT_EQ(PackListings(sizes, Budget(100)).batches.size(), 1u);  // <= budget, not <
  EXPECT_EQ(PackListings(sizes, Budget(99)).batches.size(), 2u);
  EXPECT_TRUE(PackListings({}, Budget(100)).batches.empty());
}

TEST(PackListings, InputOrderDoesNotMatter) {
  std::vector<ListingSize> sizes;
  for (int64_t id = 1; id <= 50; ++id)
    sizes.push_back(Size(id * 7, static_cast<uint64_t>((id * 37) % 23 + 1)));
  const PackResult sorted = PackListings(sizes, Budget(40));
  std::shuffle(sizes.begin(), sizes.end(), std::mt19937(42));
  const PackResult shuffled = PackListings(sizes, Budget(40));
  ASSERT_EQ(sorted.batches.size(), shuffled.batches.size());
  for (size_t i = 0; i < sorted.batches.size(); ++i) {
    EXPECT_EQ(sorted.batches[i].listings, shuffled.batches[i].listings);
    EXPECT_EQ(sorted.batches[i].memory_bytes, shuffled.batches[i].memory_bytes);
  }
  EXPECT_EQ(PackListings(sizes, Budget(40)).batches.size(), sorted.batches.size());  // and repeatable
  std::vector<int64_t> all = AllListings(sorted);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
}

TEST(PackListings, OversizeListingStreamsWhenThePassCan) {
  std::vector<ListingSize> sizes{Size(1, 30), Size(2, 500), Size(3, 30)};
  PackOptions options = Budget(100);
  options.stream_blocker = "";
  PackResult result = PackListings(sizes, options);
  ASSERT_EQ(result.batches.size(), 3u);
  EXPECT_FALSE(result.batches[0].streamed);
  EXPECT_TRUE(result.batches[1].oversize);
  EXPECT_TRUE(result.batches[1].streamed);
  ExpectOneWarning(result, "it will be streamed over time in slices within the budget");

  options.stream_blocker = "module l3 does not stream over time";
  result = PackListings(sizes, options);
  EXPECT_TRUE(result.batches[1].oversize);
  EXPECT_FALSE(result.batches[1].streamed);
  ExpectOneWarning(result, "may exceed the budget (module l3 does not stream over time)");

  // Over the budget only with its output rows: slicing its input in time would not help.
  options.stream_blocker = "";
  std::vector<ListingSize> outputs{Size(1, 30), Size(2, 500), Size(3, 30)};
  outputs[1].output_bytes = 450;
  result = PackListings(outputs, options);
  ASSERT_EQ(result.batches.size(), 3u);
  EXPECT_TRUE(result.batches[1].oversize);
  EXPECT_FALSE(result.batches[1].streamed);
  ExpectOneWarning(result, "its output rows, an estimated 450 B, are held whole; its input fits");
  outputs[1].output_bytes = 350;  // 150 of input: over the budget without its output rows too
  EXPECT_TRUE(PackListings(outputs, options).batches[1].streamed);

  // An instrument group over the budget is not streamed, whatever its modules.
  options.stream_blocker = "";
  options.group_by_instrument = true;
  result = PackListings(std::vector<ListingSize>{Size(1, 300, 0, 9), Size(2, 300, 0, 9)}, options);
  ASSERT_EQ(result.batches.size(), 1u);
  EXPECT_TRUE(result.batches[0].oversize);
  EXPECT_FALSE(result.batches[0].streamed);
  ExpectOneWarning(result, "an instrument group is not streamed");
}

TEST(PackListings, OversizeListingAloneAndReported) {
  std::vector<ListingSize> sizes{Size(1, 30), Size(2, 30), Size(3, 500), Size(4, 30), Size(5, 30)};
  const PackResult result = PackListings(sizes, Budget(100));
  ExpectWellFormed(result, sizes);
  ASSERT_EQ(result.batches.size(), 3u);
  EXPECT_EQ(result.batches[0].listings, (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(result.batches[0].oversize);
  EXPECT_EQ(result.batches[1].listings, (std::vector<int64_t>{3}));
  EXPECT_TRUE(result.batches[1].oversize);
  EXPECT_EQ(result.batches[1].memory_bytes, 500u);
  EXPECT_EQ(result.batches[2].listings, (std::vector<int64_t>{4, 5}));
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_NE(result.warnings[0].find("listing 3"), std::string::npos) << result.warnings[0];
  EXPECT_NE(result.warnings[0].find("500 B"), std::string::npos) << result.warnings[0];
  EXPECT_NE(result.warnings[0].find("batch 1"), std::string::npos) << result.warnings[0];
}

TEST(PackListings, RowCapsPerTable) {
  std::vector<ListingSize> sizes;
  for (int64_t id = 1; id <= 6; ++id) sizes.push_back(Size(id, 1, 400));
  sizes[3].rows[kL3] = 5000;  // listing 4: over the l3 cap on its own
  PackOptions options = Budget(1'000'000);
  options.max_rows_per_table = {{Table::kTrades, 1000}, {Table::kL3, 1000}};
  const PackResult result = PackListings(sizes, options);
  ExpectWellFormed(result, sizes);
  for (const auto& b : result.batches) {
    if (b.oversize) continue;
    EXPECT_LE(b.rows[kTradesIndex], 1000);
    EXPECT_LE(b.rows[kL3], 1000);
  }
  ASSERT_EQ(result.batches.size(), 4u);
  EXPECT_EQ(result.batches[0].listings, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(result.batches[1].listings, (std::vector<int64_t>{3}));
  EXPECT_EQ(result.batches[2].listings, (std::vector<int64_t>{4}));
  EXPECT_TRUE(result.batches[2].oversize);
  EXPECT_EQ(result.batches[3].listings, (std::vector<int64_t>{5, 6}));
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_NE(result.warnings[0].find("max_rows_per_table.l3"), std::string::npos) << result.warnings[0];
  EXPECT_NE(result.warnings[0].find("5000"), std::string::npos) << result.warnings[0];
}

TEST(PackListings, UnknownSizesAreNeverCountedAsZero) {
  std::vector<ListingSize> sizes{Size(1, 10), Size(2, 0), Size(3, 10), Size(4, 10)};
  sizes[1].estimated = false;  // its figures say 0, which must not be believed
  const PackResult result = PackListings(sizes, Budget(1000));
  ExpectWellFormed(result, sizes);
  // Everything else fits one batch; the unknown listing is cut out alone, not packed as zero.
  ASSERT_EQ(result.batches.size(), 3u);
  EXPECT_EQ(result.batches[0].listings, (std::vector<int64_t>{1}));
  EXPECT_EQ(result.batches[1].listings, (std::vector<int64_t>{2}));
  EXPECT_FALSE(result.batches[1].oversize);
  EXPECT_EQ(result.batches[2].listings, (std::vector<int64_t>{3, 4}));
  ExpectOneWarning(result, "listing 2 has no size estimate");
}

TEST(PackListings, InstrumentGroupsStayTogether) {
  // Instruments: 100 = {1, 4, 7}, 200 = {2, 5}, 300 = {3}; listing 6 has no instrument.
  std::vector<ListingSize> sizes{Size(1, 20, 0, 100), Size(2, 20, 0, 200), Size(3, 20, 0, 300),
                                 Size(4, 20, 0, 100), Size(5, 20, 0, 200), Size(6, 20, 0, 0),
                                 Size(7, 20, 0, 100)};
  PackOptions options = Budget(60);
  options.group_by_instrument = true;
  const PackResult result = PackListings(sizes, options);
  ExpectWellFormed(result, sizes);
  std::map<int64_t, std::set<int>> batches_of_instrument;
  for (const auto& b : result.batches) {
    EXPECT_LE(b.memory_bytes, 60u);
    for (int64_t id : b.listings) {
      const auto& s =
          *std::find_if(sizes.begin(), sizes.end(), [&](const ListingSize& x) { return x.listing_id == id; });
      if (s.instrument_id != 0) batches_of_instrument[s.instrument_id].insert(b.id);
    }
  }
  for (const auto& [instrument, batches] : batches_of_instrument) EXPECT_EQ(batches.size(), 1u) << instrument;
  // Groups in order of their smallest ListingId: {1,4,7} (60), {2,5}+{3} (60), {6}.
  ASSERT_EQ(result.batches.size(), 3u);
  EXPECT_EQ(result.batches[0].listings, (std::vector<int64_t>{1, 4, 7}));
  EXPECT_EQ(result.batches[1].listings, (std::vector<int64_t>{2, 3, 5}));
  EXPECT_EQ(result.batches[2].listings, (std::vector<int64_t>{6}));
}

TEST(PackListings, OversizeInstrumentGroupGoesAloneWhole) {
  std::vector<ListingSize> sizes{Size(1, 10, 0, 7), Size(2, 80, 0, 9), Size(3, 80, 0, 9), Size(4, 10, 0, 7)};
  PackOptions options = Budget(100);
  options.group_by_instrument = true;
  const PackResult result = PackListings(sizes, options);
  ExpectWellFormed(result, sizes);
  ASSERT_EQ(result.batches.size(), 2u);
  EXPECT_EQ(result.batches[0].listings, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(result.batches[1].listings, (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(result.batches[1].oversize);
  ExpectOneWarning(result, "instrument 9 (listings 2, 3)");
}

TEST(PackListings, WithoutGroupingInstrumentsMaySplit) {
  std::vector<ListingSize> sizes{Size(1, 60, 0, 5), Size(2, 60, 0, 5)};
  EXPECT_EQ(PackListings(sizes, Budget(100)).batches.size(), 2u);
}

}  // namespace
}  // namespace intraday
