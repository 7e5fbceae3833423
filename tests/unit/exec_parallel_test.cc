#include "exec/parallel.h"

#include <atomic>

#include <gtest/gtest.h>

namespace intraday {
namespace {

TEST(ParallelTest, ChunksOfListingsCoverEveryListingInOrderWithAboutEqualRows) {
  const std::vector<int64_t> rows{10, 10, 10, 10, 10, 10, 10, 10};
  EXPECT_EQ(ChunksOfListings(rows, 4), (std::vector<size_t>{0, 2, 4, 6, 8}));
  // A heavy listing gets a chunk of its own; no more chunks than asked, none empty.
  EXPECT_EQ(ChunksOfListings({1, 100, 1, 1}, 2), (std::vector<size_t>{0, 2, 4}));
  EXPECT_EQ(ChunksOfListings({5, 5, 5}, 16), (std::vector<size_t>{0, 1, 2, 3}));
  EXPECT_EQ(ChunksOfListings({5, 5, 5}, 1), (std::vector<size_t>{0, 3}));
  // No listing: one empty chunk, so that the output is still opened and finished.
  EXPECT_EQ(ChunksOfListings({}, 4), (std::vector<size_t>{0, 0}));
}

TEST(ParallelTest, ParallelForRunsEveryIndexOnceAndReturnsAnError) {
  std::vector<std::atomic<int>> seen(100);
  ASSERT_TRUE(ParallelFor(seen.size(), 3, [&](size_t i) {
                ++seen[i];
                return Status::OK();
              }).ok());
  for (const auto& s : seen) EXPECT_EQ(s.load(), 1);
  const Status failed =
      ParallelFor(10, 2, [](size_t i) { return i == 7 ? Status::Invalid("seven") : Status::OK(); });
  EXPECT_TRUE(failed.IsInvalid());
  EXPECT_NE(failed.message().find("seven"), std::string::npos);
}

}  // namespace
}  // namespace intraday
