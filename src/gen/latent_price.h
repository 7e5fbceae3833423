// The efficient ("latent") price of an instrument over a day: a Gaussian random walk in log
// price on a 5-second grid, drawn from the instrument-day's own stream. Every listing of the
// instrument reads the same path (converted to its currency), which keeps venues consistent;
// the simulated book is pulled towards it, and secondary listings quote "at the primary" from it.
#pragma once

#include <cstdint>
#include <vector>

#include "common/date.h"

namespace intraday::gen {

class LatentPath {
 public:
  /// `price` = the instrument's reference price (in the primary's currency); `daily_vol` the
  /// standard deviation of the day's log return over a session of about 8.5 hours.
  LatentPath(uint64_t seed, int64_t instrument_id, Date day, double price, double daily_vol);

  /// The price at time t (ns since the epoch), linear between grid points.
  double PriceAt(int64_t t) const;

 private:
  int64_t start_ns_;
  std::vector<double> log_price_;
};

}  // namespace intraday::gen
