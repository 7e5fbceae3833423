// Technical indicators over one series in time order (metrics.md, "Pass 2+"): SMA, EMA, RSI,
// MACD, Bollinger bands, rolling standard deviation and z-score. Pure functions of a series of
// optional values, used by the `generic` module; each is documented in docs/metrics/generic.md.
//
// Shared rules:
//   - A null input gives a null output on its row and is skipped: windows and recursive state
//     run over the non-null values only (a gap in the bars does not reset or poison the series).
//   - Warm-up values are null: an indicator is null until it has seen enough non-null values.
//   - Rolling windows are recomputed from their values at each step (no running sums), so that a
//     value never depends on how far back the series started beyond its window.
#pragma once

#include <optional>
#include <span>
#include <vector>

namespace intraday::indicators {

using Series = std::vector<std::optional<double>>;

/// Mean of the last `period` non-null values.
Series Sma(std::span<const std::optional<double>> x, int period);

/// Exponential moving average, alpha = 2 / (period + 1), seeded with the SMA of the first
/// `period` non-null values (the classic convention: the seed is the first non-null output).
Series Ema(std::span<const std::optional<double>> x, int period);

/// Wilder's RSI: average gain and loss of the changes between consecutive non-null values,
/// seeded with their simple means over the first `period` changes, then smoothed with
/// alpha = 1 / period. 100 * gain / (gain + loss); 50 when both are 0 (no movement).
Series Rsi(std::span<const std::optional<double>> x, int period);

struct MacdSeries {
  Series line, signal, histogram;
};
/// line = EMA(fast) - EMA(slow); signal = EMA(signal) of the line; histogram = line - signal.
MacdSeries Macd(std::span<const std::optional<double>> x, int fast, int slow, int signal);

/// Standard deviation of the last `period` non-null values with `ddof` degrees of freedom
/// (1: sample, as pandas/Polars rolling_std; 0: population).
Series RollingStd(std::span<const std::optional<double>> x, int period, int ddof);

struct BollingerSeries {
  Series upper, middle, lower;
};
/// middle = SMA(period); upper/lower = middle +/- k * RollingStd(period, ddof).
BollingerSeries Bollinger(std::span<const std::optional<double>> x, int period, double k, int ddof);

/// (x - SMA(period)) / RollingStd(period, ddof); null where the deviation is 0.
Series ZScore(std::span<const std::optional<double>> x, int period, int ddof);

}  // namespace intraday::indicators
