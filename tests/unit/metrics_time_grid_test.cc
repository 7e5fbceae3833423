// Bucket labels for every anchor/closed combination and the timelines (metrics.md examples).
#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "metrics/module.h"
#include "metrics/time_grid.h"

namespace intraday {
namespace {

constexpr int64_t kSec = kNanosPerSecond;
constexpr int64_t kMin = 60 * kSec;

int64_t ClockAt(int h, int m, int s = 0) {
  return Date::FromYmd(2026, 1, 30).start_ns() + (h * 3600 + m * 60 + s) * kSec;
}

TEST(TimeGrid, MetricsMdExample) {
  const TimeGrid end_right(kMin, BucketAnchor::kEnd, BucketClosed::kRight);
  const TimeGrid end_left(kMin, BucketAnchor::kEnd, BucketClosed::kLeft);
  const TimeGrid start_left(kMin, BucketAnchor::kStart, BucketClosed::kLeft);
  const TimeGrid start_right(kMin, BucketAnchor::kStart, BucketClosed::kRight);
  // 00:00:30 -> 00:01:00 (end/right), 00:00:00 (start/left)
  EXPECT_EQ(end_right.LabelOf(ClockAt(0, 0, 30)), ClockAt(0, 1));
  EXPECT_EQ(start_left.LabelOf(ClockAt(0, 0, 30)), ClockAt(0, 0));
  EXPECT_EQ(end_left.LabelOf(ClockAt(0, 0, 30)), ClockAt(0, 1));
  EXPECT_EQ(start_right.LabelOf(ClockAt(0, 0, 30)), ClockAt(0, 0));
  // 00:01:00 -> 00:01:00 (end/right), 00:02:00 (end/left), 00:00:00 (start/right)
  EXPECT_EQ(end_right.LabelOf(ClockAt(0, 1)), ClockAt(0, 1));
  EXPECT_EQ(end_left.LabelOf(ClockAt(0, 1)), ClockAt(0, 2));
  EXPECT_EQ(start_right.LabelOf(ClockAt(0, 1)), ClockAt(0, 0));
  EXPECT_EQ(start_left.LabelOf(ClockAt(0, 1)), ClockAt(0, 1));
}

TEST(TimeGrid, SubSecondBucketsAndNegativeTimes) {
  const TimeGrid grid(250'000'000, BucketAnchor::kEnd, BucketClosed::kRight);
  EXPECT_EQ(grid.LabelOf(1), 250'000'000);
  EXPECT_EQ(grid.LabelOf(250'000'000), 250'000'000);
  EXPECT_EQ(grid.LabelOf(250'000'001), 500'000'000);
  EXPECT_EQ(grid.LabelOf(-1), 0);
  const TimeGrid start(250'000'000, BucketAnchor::kStart, BucketClosed::kLeft);
  EXPECT_EQ(start.LabelOf(-1), -250'000'000);
}

TEST(Timeline, DenseFromMarketStates531Rows) {
  // States 08:55 PRE_OPEN, 09:00 CONTINUOUS_TRADING, 17:30 POST_TRADE; N = 1 min, end/right,
  // padding 10 min: labels 08:50 ... 17:40, 531 rows.
  const TimeGrid grid(kMin, BucketAnchor::kEnd, BucketClosed::kRight);
  const std::vector<StateChange> states{
      {ClockAt(8, 55), false}, {ClockAt(9, 0), true}, {ClockAt(17, 30), false}};
  const auto labels =
      BuildTimeline(TimelineKind::kDense, grid, Date::FromYmd(2026, 1, 30), states, 10 * kMin, {});
  ASSERT_EQ(labels.size(), 531u);
  EXPECT_EQ(labels.front(), ClockAt(8, 50));
  EXPECT_EQ(labels.back(), ClockAt(17, 40));
}

TEST(Timeline, DenseKeepsEventsOutsideTheSession) {
  const TimeGrid grid(kMin, BucketAnchor::kEnd, BucketClosed::kRight);
  const std::vector<StateChange> states{{ClockAt(9, 0), true}, {ClockAt(10, 0), false}};
  const std::vector<int64_t> events{ClockAt(7, 0, 1), ClockAt(9, 30), ClockAt(12, 0)};
  const auto labels =
      BuildTimeline(TimelineKind::kDense, grid, Date::FromYmd(2026, 1, 30), states, 0, events);
  EXPECT_EQ(labels.front(), ClockAt(7, 1));
  EXPECT_EQ(labels.back(), ClockAt(12, 0));
  // 07:01, then 09:00..10:00 (the instant 09:00 closes the bucket labelled 09:00), then 12:00
  EXPECT_EQ(labels.size(), 1u + 61u + 1u);
  EXPECT_EQ(labels[1], ClockAt(9, 0));
}

TEST(Timeline, DenseWithoutStatesUsesTheEventSpan) {
  const TimeGrid grid(kMin, BucketAnchor::kEnd, BucketClosed::kRight);
  const std::vector<int64_t> events{ClockAt(9, 0, 10), ClockAt(9, 3, 30)};
  const auto labels = BuildTimeline(TimelineKind::kDense, grid, Date::FromYmd(2026, 1, 30), {}, 0, events);
  EXPECT_EQ(labels, (std::vector<int64_t>{ClockAt(9, 1), ClockAt(9, 2), ClockAt(9, 3), ClockAt(9, 4)}));
}

TEST(Timeline, DenseSessionStillOpenAtTheLastStateEndsAtTheLastEvent) {
  const TimeGrid grid(kMin, BucketAnchor::kEnd, BucketClosed::kRight);
  const std::vector<StateChange> states{{ClockAt(9, 0), true}};
  const std::vector<int64_t> events{ClockAt(9, 2, 5)};
  const auto labels =
      BuildTimeline(TimelineKind::kDense, grid, Date::FromYmd(2026, 1, 30), states, 0, events);
  EXPECT_EQ(labels, (std::vector<int64_t>{ClockAt(9, 0), ClockAt(9, 1), ClockAt(9, 2), ClockAt(9, 3)}));
}

TEST(Timeline, SparseAndDaily) {
  const TimeGrid grid(kMin, BucketAnchor::kEnd, BucketClosed::kRight);
  const std::vector<int64_t> trades{ClockAt(9, 0, 10), ClockAt(9, 0, 20)};
  const std::vector<int64_t> l2{ClockAt(9, 5)};
  std::vector<int64_t> events = trades;
  events.insert(events.end(), l2.begin(), l2.end());
  const std::vector<StateChange> states{{ClockAt(8, 0), true}, {ClockAt(16, 30), false}};
  EXPECT_EQ(BuildTimeline(TimelineKind::kSparse, grid, Date::FromYmd(2026, 1, 30), states, 0, events),
            (std::vector<int64_t>{ClockAt(9, 1), ClockAt(9, 5)}));
  const auto daily =
      BuildTimeline(TimelineKind::kDaily, DailyGrid(), Date::FromYmd(2026, 1, 30), states, 0, events);
  EXPECT_EQ(daily, (std::vector<int64_t>{ClockAt(0, 0)}));
  EXPECT_EQ(DailyGrid().LabelOf(ClockAt(23, 59, 59)), ClockAt(0, 0));
  EXPECT_EQ(DailyGrid().LabelOf(ClockAt(0, 0)), ClockAt(0, 0));
}

// Contains answers without a division what LabelOf answers with one (RowOf and the time slices
// take it on every event): for every anchor and closed side, at, just before and just after
// bucket boundaries, before 1970 too.
TEST(TimeGrid, ContainsAgreesWithLabelOfAtBoundaries) {
  for (BucketAnchor anchor : {BucketAnchor::kEnd, BucketAnchor::kStart}) {
    for (BucketClosed closed : {BucketClosed::kRight, BucketClosed::kLeft}) {
      const TimeGrid grid(kMin, anchor, closed);
      for (int64_t base : {ClockAt(9, 30), int64_t{0}, -3 * kMin}) {
        std::vector<int64_t> times;
        for (int64_t k = -2; k <= 2; ++k) {
          const int64_t boundary = base + k * kMin;
          for (int64_t d : {int64_t{-1}, int64_t{0}, int64_t{1}, kMin / 2}) times.push_back(boundary + d);
        }
        for (int64_t t : times) {
          const int64_t label = grid.LabelOf(t);
          for (int64_t other : {label - kMin, label, label + kMin})
            ASSERT_EQ(grid.Contains(other, t), other == label)
                << "anchor " << static_cast<int>(anchor) << " closed " << static_cast<int>(closed) << " t "
                << t;
        }
      }
    }
  }
}

// RowOf starts from its previous answer (events come in time order): whatever the order of the
// calls, and between or outside the labels (a sparse timeline), it is the first label not below
// the time's label.
TEST(ListingDayRows, RowOfIsTheFirstLabelNotBelowInAnyCallOrder) {
  for (BucketAnchor anchor : {BucketAnchor::kEnd, BucketAnchor::kStart}) {
    for (BucketClosed closed : {BucketClosed::kRight, BucketClosed::kLeft}) {
      const TimeGrid grid(kMin, anchor, closed);
      std::vector<int64_t> labels;
      for (int m : {5, 6, 7, 20, 21, 40}) labels.push_back(grid.LabelOf(ClockAt(9, m, 30)));
      ListingDay day;
      day.grid = &grid;
      day.labels = labels;
      std::mt19937_64 rng(3);
      std::vector<int64_t> times;
      for (int i = 0; i < 400; ++i)
        times.push_back(ClockAt(9, 0) + static_cast<int64_t>(rng() % (45 * kMin)));
      for (int m = 0; m < 45; ++m) {  // on and next to every boundary
        for (int64_t d : {int64_t{-1}, int64_t{0}, int64_t{1}}) times.push_back(ClockAt(9, m) + d);
      }
      auto expected = [&](int64_t t) {
        return static_cast<size_t>(std::lower_bound(labels.begin(), labels.end(), grid.LabelOf(t)) -
                                   labels.begin());
      };
      for (int pass = 0; pass < 2; ++pass) {  // random order, then time order twice over
        for (int64_t t : times) ASSERT_EQ(day.RowOf(t), expected(t)) << t;
        std::sort(times.begin(), times.end());
      }
      for (int64_t t : times) ASSERT_EQ(day.RowOf(t), expected(t)) << t;
      EXPECT_EQ(day.RowOf(ClockAt(10, 0)), labels.size());  // after the last label
      EXPECT_EQ(day.RowOf(ClockAt(8, 0)), 0u);
    }
  }
}

}  // namespace
}  // namespace intraday
