// Intraday activity: maps "activity time" u in [0, 1) to clock time within the continuous
// session, so that events drawn uniformly in u follow a U-shaped intensity (busy open, quieter
// midday, busier close) with a bump at the US open. Piecewise-constant intensity on 5-minute bins.
#pragma once

#include <cstdint>
#include <vector>

namespace intraday::gen {

class ActivityClock {
 public:
  /// [start_ns, end_ns): the continuous session. us_open_ns: the US cash open (14:30 or 13:30 UTC).
  ActivityClock(int64_t start_ns, int64_t end_ns, int64_t us_open_ns);

  /// The clock time of activity time u in [0, 1]; monotone non-decreasing.
  int64_t TimeAt(double u) const;

 private:
  int64_t start_ns_;
  int64_t bin_ns_;
  std::vector<double> cumulative_;  // cumulative_[k] = share of activity before bin k; back() == 1
};

}  // namespace intraday::gen
