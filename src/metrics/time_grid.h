// Time buckets and timelines (metrics.md, "Time buckets" and "Timelines"): the label of an
// event time for a bucket length, anchor and closed side, and the set of labels a listing-day
// gets for the dense, sparse and daily timelines.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/date.h"

namespace intraday {

enum class BucketAnchor { kEnd, kStart };
enum class BucketClosed { kRight, kLeft };
enum class TimelineKind { kDense, kSparse, kDaily };

class TimeGrid {
 public:
  TimeGrid(int64_t length_ns, BucketAnchor anchor, BucketClosed closed)
      : length_(length_ns), anchor_(anchor), closed_(closed) {}

  int64_t length() const { return length_; }
  BucketAnchor anchor() const { return anchor_; }
  BucketClosed closed() const { return closed_; }

  /// The label of the bucket holding event time t. Inline: called per event (a day's buckets,
  /// its slices, each module's row of an event), and a division besides.
  int64_t LabelOf(int64_t t) const {
    int64_t floor = t / length_ * length_;
    if (floor > t) floor -= length_;  // toward minus infinity for times before 1970
    const bool on_boundary = floor == t;
    if (anchor_ == BucketAnchor::kEnd) {
      // (B-N, B] for right-closed: a boundary instant closes the bucket it ends.
      if (closed_ == BucketClosed::kRight) return on_boundary ? t : floor + length_;
      return floor + length_;  // [B-N, B)
    }
    if (closed_ == BucketClosed::kLeft) return floor;  // [B, B+N)
    return on_boundary ? t - length_ : floor;          // (B, B+N]
  }
  /// The interval of a label: [begin, end) in "instant" terms, with `closed` saying which end
  /// belongs to it. begin = label - N for end-anchored labels, label for start-anchored ones.
  int64_t IntervalBegin(int64_t label) const {
    return anchor_ == BucketAnchor::kEnd ? label - length_ : label;
  }
  int64_t IntervalEnd(int64_t label) const { return IntervalBegin(label) + length_; }
  /// True if t lies in the bucket of `label` (two comparisons, no division: events mostly fall
  /// in the bucket of the event before).
  bool Contains(int64_t label, int64_t t) const {
    const int64_t begin = IntervalBegin(label);
    return closed_ == BucketClosed::kRight ? begin < t && t <= begin + length_
                                           : begin <= t && t < begin + length_;
  }
  /// The next label after `label`.
  int64_t Next(int64_t label) const { return label + length_; }

 private:
  int64_t length_;
  BucketAnchor anchor_;
  BucketClosed closed_;
};

/// The grid of a daily timeline: one-day buckets labelled by their start, [00:00, 24:00).
inline TimeGrid DailyGrid() { return TimeGrid(kNanosPerDay, BucketAnchor::kStart, BucketClosed::kLeft); }

/// A market-state transition of a listing-day (for dense timelines and session logic).
struct StateChange {
  int64_t time_ns;
  bool continuous;  // the new state is CONTINUOUS_TRADING
};

/// The session of a listing-day (metrics.md): from the first entry into CONTINUOUS_TRADING to
/// the exit from the last continuous run. Returns false if there is no continuous state; sets
/// *end to kOpenEnded if the last state is still continuous (BuildTimeline then ends the
/// session at the last event).
inline constexpr int64_t kOpenEnded = INT64_MIN;
bool SessionFromStates(std::span<const StateChange> states, int64_t* begin, int64_t* end);

/// The labels of a listing-day's rows, sorted and unique.
/// - dense: every bucket whose interval holds an instant of [begin - pad, end + pad) where
///   [begin, end) is the session (or, without market states, the span of the event times:
///   [first, last] made half-open by one nanosecond), plus the bucket of every event.
/// - sparse: the buckets of the events.
/// - daily: one label per listing-day, the day's 00:00; use DailyGrid() with it, so that every
///   event of the day maps to that label whatever the pass's bucket, anchor and closed are.
/// `event_times` may hold several sorted runs (one per table); it need not be sorted overall.
std::vector<int64_t> BuildTimeline(TimelineKind kind, const TimeGrid& grid, Date day,
                                   std::span<const StateChange> states, int64_t session_padding_ns,
                                   std::span<const int64_t> event_times);

}  // namespace intraday
