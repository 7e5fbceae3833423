#include "gen/latent_price.h"

#include <cmath>

#include "gen/random.h"

namespace intraday::gen {
namespace {

constexpr int64_t kStepNs = 5'000'000'000;               // grid step: 5 s
constexpr int64_t kFromNs = 4LL * 3600 * 1'000'000'000;  // 04:00 UTC
constexpr int64_t kToNs = 20LL * 3600 * 1'000'000'000;   // 20:00 UTC: covers every session
constexpr double kSessionSeconds = 8.5 * 3600;
constexpr double kDailyLevelVol = 0.03;  // day-to-day level noise around the reference price

}  // namespace

LatentPath::LatentPath(uint64_t seed, int64_t instrument_id, Date day, double price, double daily_vol)
    : start_ns_(day.start_ns() + kFromNs) {
  Rng rng(StreamSeed(seed, StreamTag::kLatent, static_cast<uint64_t>(instrument_id),
                     static_cast<uint64_t>(day.days_since_epoch())));
  const int64_t n = (kToNs - kFromNs) / kStepNs + 1;
  log_price_.resize(static_cast<size_t>(n));
  const double step_vol = daily_vol * std::sqrt(static_cast<double>(kStepNs) * 1e-9 / kSessionSeconds);
  double x = std::log(price) + kDailyLevelVol * rng.Normal();
  for (auto& value : log_price_) {
    value = x;
    x += step_vol * rng.Normal();
  }
}

double LatentPath::PriceAt(int64_t t) const {
  const int64_t last = static_cast<int64_t>(log_price_.size()) - 1;
  const int64_t offset = t - start_ns_;
  if (offset <= 0) return std::exp(log_price_.front());
  const int64_t i = offset / kStepNs;
  if (i >= last) return std::exp(log_price_.back());
  const double frac = static_cast<double>(offset - i * kStepNs) / static_cast<double>(kStepNs);
  return std::exp(log_price_[i] + frac * (log_price_[i + 1] - log_price_[i]));
}

}  // namespace intraday::gen
