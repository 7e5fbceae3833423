// Where a day in time slices is cut (exec/sliced_day.h EvenSliceCuts): as few slices as the slice
// size allows, of about equal bytes, none over the size but a single bucket larger than it.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "exec/sliced_day.h"

namespace intraday {
namespace {

/// Each slice's bytes, from the cuts.
std::vector<double> SliceBytesOf(const std::vector<double>& buckets, const std::vector<size_t>& cuts) {
  std::vector<double> slices;
  size_t start = 0;
  for (size_t end : cuts) {
    EXPECT_GT(end, start);
    slices.push_back(std::accumulate(buckets.begin() + static_cast<std::ptrdiff_t>(start),
                                     buckets.begin() + static_cast<std::ptrdiff_t>(end), 0.0));
    start = end;
  }
  EXPECT_LT(start, buckets.size());
  slices.push_back(std::accumulate(buckets.begin() + static_cast<std::ptrdiff_t>(start), buckets.end(), 0.0));
  return slices;
}

TEST(EvenSliceCuts, ADayThatFitsOneSliceIsNotCut) {
  EXPECT_TRUE(EvenSliceCuts({}, 100).empty());
  EXPECT_TRUE(EvenSliceCuts({30, 30, 40}, 100).empty());
}

TEST(EvenSliceCuts, TakesAsFewSlicesAsTheSizeAllowsOfEqualBytes) {
  // 1 000 bytes in buckets of 10, slices of at most 300: 4 slices of 250, not 300 + 300 + 300 +
  // 100 (the same count, a larger last-but-one peak) nor slices of a half.
  const std::vector<double> buckets(100, 10);
  const auto slices = SliceBytesOf(buckets, EvenSliceCuts(buckets, 300));
  EXPECT_EQ(slices, (std::vector<double>{250, 250, 250, 250}));
}

TEST(EvenSliceCuts, UnevenBucketsStayWithinTheSize) {
  std::vector<double> buckets;
  for (int i = 0; i < 500; ++i) buckets.push_back(1 + (i * 37) % 23 + (i % 50 == 0 ? 40 : 0));
  const double total = std::accumulate(buckets.begin(), buckets.end(), 0.0);
  const double largest = *std::max_element(buckets.begin(), buckets.end());
  for (double size : {64.0, 100.0, 333.0, 1000.0, 2500.0}) {
    const auto slices = SliceBytesOf(buckets, EvenSliceCuts(buckets, size));
    // Buckets small against the slice (a day's one-minute buckets against 128 MiB): at most one
    // slice more than the bytes need. Coarse ones can take more (each slice stops short).
    if (size >= 16 * largest) {
      EXPECT_LE(slices.size(), static_cast<size_t>(std::ceil(total / size)) + 1) << size;
    }
    for (double bytes : slices) EXPECT_LE(bytes, size) << size;
    EXPECT_DOUBLE_EQ(std::accumulate(slices.begin(), slices.end(), 0.0), total);
  }
}

TEST(EvenSliceCuts, ABucketLargerThanTheSizeIsASliceOfItsOwn) {
  const std::vector<double> buckets{10, 10, 500, 10, 10};
  const auto slices = SliceBytesOf(buckets, EvenSliceCuts(buckets, 100));
  for (double bytes : slices) EXPECT_TRUE(bytes <= 100 || bytes == 500) << bytes;
  EXPECT_NE(std::find(slices.begin(), slices.end(), 500.0), slices.end());
}

}  // namespace
}  // namespace intraday
