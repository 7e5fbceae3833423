#include "metrics/indicators.h"

#include <cmath>

namespace intraday::indicators {
namespace {

/// The positions of the non-null values, and the values themselves, in order.
struct Compact {
  std::vector<size_t> rows;
  std::vector<double> values;
};

Compact CompactOf(std::span<const std::optional<double>> x) {
  Compact c;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i]) {
      c.rows.push_back(i);
      c.values.push_back(*x[i]);
    }
  }
  return c;
}

/// Scatters values computed on the compacted series back to the rows of the full series.
Series Expand(const Compact& c, const std::vector<std::optional<double>>& compact_out, size_t n) {
  Series out(n);
  for (size_t k = 0; k < c.rows.size(); ++k) out[c.rows[k]] = compact_out[k];
  return out;
}

double WindowMean(const std::vector<double>& v, size_t end, int period) {
  double sum = 0;
  for (size_t i = end - static_cast<size_t>(period); i < end; ++i) sum += v[i];
  return sum / period;
}

std::optional<double> WindowStd(const std::vector<double>& v, size_t end, int period, int ddof) {
  if (period - ddof <= 0) return std::nullopt;
  const double mean = WindowMean(v, end, period);
  double squares = 0;
  for (size_t i = end - static_cast<size_t>(period); i < end; ++i) squares += (v[i] - mean) * (v[i] - mean);
  return std::sqrt(squares / (period - ddof));
}

/// EMA on a dense series (no nulls): null before the `period`-th value.
std::vector<std::optional<double>> DenseEma(const std::vector<double>& v, int period) {
  std::vector<std::optional<double>> out(v.size());
  if (period <= 0 || v.size() < static_cast<size_t>(period)) return out;
  const double alpha = 2.0 / (period + 1);
  double ema = WindowMean(v, static_cast<size_t>(period), period);
  out[static_cast<size_t>(period) - 1] = ema;
  for (size_t i = static_cast<size_t>(period); i < v.size(); ++i) {
    ema = alpha * v[i] + (1 - alpha) * ema;
    out[i] = ema;
  }
  return out;
}

}  // namespace

Series Sma(std::span<const std::optional<double>> x, int period) {
  const Compact c = CompactOf(x);
  std::vector<std::optional<double>> out(c.values.size());
  for (size_t k = 0; k < c.values.size(); ++k) {
    if (k + 1 >= static_cast<size_t>(period)) out[k] = WindowMean(c.values, k + 1, period);
  }
  return Expand(c, out, x.size());
}

Series Ema(std::span<const std::optional<double>> x, int period) {
  const Compact c = CompactOf(x);
  return Expand(c, DenseEma(c.values, period), x.size());
}

Series Rsi(std::span<const std::optional<double>> x, int period) {
  const Compact c = CompactOf(x);
  std::vector<std::optional<double>> out(c.values.size());
  const size_t p = static_cast<size_t>(period);
  if (c.values.size() > p) {
    double gain = 0, loss = 0;
    for (size_t i = 1; i <= p; ++i) {
      const double d = c.values[i] - c.values[i - 1];
      gain += d > 0 ? d : 0;
      loss += d < 0 ? -d : 0;
    }
    gain /= period;
    loss /= period;
    auto rsi = [](double g, double l) { return g + l == 0 ? 50.0 : 100.0 * g / (g + l); };
    out[p] = rsi(gain, loss);
    for (size_t i = p + 1; i < c.values.size(); ++i) {
      const double d = c.values[i] - c.values[i - 1];
      gain = (gain * (period - 1) + (d > 0 ? d : 0)) / period;
      loss = (loss * (period - 1) + (d < 0 ? -d : 0)) / period;
      out[i] = rsi(gain, loss);
    }
  }
  return Expand(c, out, x.size());
}

MacdSeries Macd(std::span<const std::optional<double>> x, int fast, int slow, int signal) {
  const Compact c = CompactOf(x);
  const auto fast_ema = DenseEma(c.values, fast);
  const auto slow_ema = DenseEma(c.values, slow);
  std::vector<std::optional<double>> line(c.values.size());
  std::vector<double> defined;  // the line where it is defined, for its own EMA
  std::vector<size_t> defined_at;
  for (size_t k = 0; k < c.values.size(); ++k) {
    if (fast_ema[k] && slow_ema[k]) {
      line[k] = *fast_ema[k] - *slow_ema[k];
      defined.push_back(*line[k]);
      defined_at.push_back(k);
    }
  }
  const auto signal_dense = DenseEma(defined, signal);
  std::vector<std::optional<double>> sig(c.values.size()), hist(c.values.size());
  for (size_t j = 0; j < defined.size(); ++j) {
    if (!signal_dense[j]) continue;
    sig[defined_at[j]] = signal_dense[j];
    hist[defined_at[j]] = defined[j] - *signal_dense[j];
  }
  return MacdSeries{Expand(c, line, x.size()), Expand(c, sig, x.size()), Expand(c, hist, x.size())};
}

Series RollingStd(std::span<const std::optional<double>> x, int period, int ddof) {
  const Compact c = CompactOf(x);
  std::vector<std::optional<double>> out(c.values.size());
  for (size_t k = 0; k < c.values.size(); ++k) {
    if (k + 1 >= static_cast<size_t>(period)) out[k] = WindowStd(c.values, k + 1, period, ddof);
  }
  return Expand(c, out, x.size());
}

BollingerSeries Bollinger(std::span<const std::optional<double>> x, int period, double k, int ddof) {
  BollingerSeries out{Series(x.size()), Sma(x, period), Series(x.size())};
  const Series sd = RollingStd(x, period, ddof);
  for (size_t i = 0; i < x.size(); ++i) {
    if (!out.middle[i] || !sd[i]) continue;
    out.upper[i] = *out.middle[i] + k * *sd[i];
    out.lower[i] = *out.middle[i] - k * *sd[i];
  }
  return out;
}

Series ZScore(std::span<const std::optional<double>> x, int period, int ddof) {
  const Series mean = Sma(x, period);
  const Series sd = RollingStd(x, period, ddof);
  Series out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (mean[i] && sd[i] && *sd[i] > 0) out[i] = (*x[i] - *mean[i]) / *sd[i];
  }
  return out;
}

}  // namespace intraday::indicators
