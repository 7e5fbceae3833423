#include "gen/activity_clock.h"

#include <algorithm>
#include <cmath>

namespace intraday::gen {
namespace {

constexpr int64_t kBinNs = 5LL * 60 * 1'000'000'000;

// Relative intensity at session fraction x and clock time t: a U shape (the first and last half
// hour carry several times the midday rate) plus the US open.
double Intensity(double x, int64_t t, int64_t us_open_ns) {
  const double minutes_from_us_open = static_cast<double>(t - us_open_ns) / 60e9;
  return 1.0 + 2.2 * std::exp(-x / 0.04) + 2.8 * std::exp(-(1.0 - x) / 0.05) +
         0.8 * std::exp(-(minutes_from_us_open / 15.0) * (minutes_from_us_open / 15.0));
}

}  // namespace

ActivityClock::ActivityClock(int64_t start_ns, int64_t end_ns, int64_t us_open_ns)
    : start_ns_(start_ns), bin_ns_(kBinNs) {
  const int64_t duration = std::max<int64_t>(end_ns - start_ns, 1);
  const int64_t bins = std::max<int64_t>(1, (duration + kBinNs - 1) / kBinNs);
  bin_ns_ = duration / bins;
  cumulative_.assign(static_cast<size_t>(bins) + 1, 0.0);
  for (int64_t k = 0; k < bins; ++k) {
    const double x = (static_cast<double>(k) + 0.5) / static_cast<double>(bins);
    cumulative_[k + 1] = cumulative_[k] + Intensity(x, start_ns + k * bin_ns_ + bin_ns_ / 2, us_open_ns);
  }
  const double total = cumulative_.back();
  for (auto& c : cumulative_) c /= total;
}

int64_t ActivityClock::TimeAt(double u) const {
  u = std::clamp(u, 0.0, 1.0);
  // The bin k with cumulative_[k] <= u < cumulative_[k + 1], then linear inside it.
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  const int64_t k =
      std::clamp<int64_t>((it - cumulative_.begin()) - 1, 0, static_cast<int64_t>(cumulative_.size()) - 2);
  const double width = cumulative_[k + 1] - cumulative_[k];
  const double frac = width > 0 ? (u - cumulative_[k]) / width : 0.0;
  return start_ns_ + k * bin_ns_ + static_cast<int64_t>(frac * static_cast<double>(bin_ns_));
}

}  // namespace intraday::gen
