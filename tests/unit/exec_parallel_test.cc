#include "exec/parallel.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

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

/// The threads that ran a ParallelFor's indexes (each index waits a little, so that every thread
/// takes some).
std::set<std::thread::id> ThreadsOf(size_t n, int threads) {
  std::mutex mutex;
  std::set<std::thread::id> ids;
  EXPECT_TRUE(ParallelFor(n, threads, [&](size_t) {
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
                std::lock_guard lock(mutex);
                ids.insert(std::this_thread::get_id());
                return Status::OK();
              }).ok());
  return ids;
}

TEST(ParallelTest, CallsOneAfterAnotherRunOnTheSameThreads) {
  // The caller's thread and kept ones: a later call starts no thread (its allocator heap and
  // pages serve the next call, docs/benchmarks.md "Session 21").
  std::set<std::thread::id> first = ThreadsOf(40, 3);
  std::set<std::thread::id> all = first;
  for (int call = 0; call < 5; ++call) {
    const std::set<std::thread::id> again = ThreadsOf(40, 3);
    EXPECT_LE(again.size(), 3u);
    all.insert(again.begin(), again.end());
  }
  EXPECT_TRUE(first.count(std::this_thread::get_id()));
  EXPECT_LE(all.size(), 3u) << "a call started threads of its own";
}

TEST(ParallelTest, NestedAndConcurrentCallsComplete) {
  // A body that calls ParallelFor, and two threads calling it at once: each gets threads.
  std::atomic<int> inner{0};
  ASSERT_TRUE(ParallelFor(4, 2, [&](size_t) {
                return ParallelFor(8, 2, [&](size_t) {
                  ++inner;
                  return Status::OK();
                });
              }).ok());
  EXPECT_EQ(inner.load(), 32);
  std::atomic<int> both{0};
  auto call = [&] {
    EXPECT_TRUE(ParallelFor(50, 2, [&](size_t) {
                  ++both;
                  return Status::OK();
                }).ok());
  };
  std::thread other(call);
  call();
  other.join();
  EXPECT_EQ(both.load(), 100);
}

TEST(ParallelTest, AnExceptionOnTheCallersRunWaitsForTheKeptThreads) {
  // The caller runs indexes too; what it throws comes out of ParallelFor once the kept threads are
  // done with the call (they refer to its frame), and the next call runs as usual.
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> others{0};
  EXPECT_THROW((void)ParallelFor(200, 3,
                                 [&](size_t) -> Status {
                                   if (std::this_thread::get_id() == caller)
                                     throw std::runtime_error("caller");
                                   std::this_thread::sleep_for(std::chrono::microseconds(200));
                                   ++others;
                                   return Status::OK();
                                 }),
               std::runtime_error);
  EXPECT_GE(others.load(), 1);
  EXPECT_EQ(ThreadsOf(20, 3).size() <= 3, true);
}

}  // namespace
}  // namespace intraday
