// gen/: the synthetic lake generator (`intraday generate`). It owns the model of a listing-day
// (session, order book, L3 message flow, trades), the vendor schemas it writes, and the
// orchestration of (day, MIC) files. Nothing outside gen/ depends on it except the CLI.
//
// This header: the generator's only source of randomness. The algorithms are written out here
// (splitmix64 to seed, xoshiro256** to draw, explicit transforms for every distribution) rather
// than taken from <random>, whose distributions differ between standard libraries: the same seed
// must give byte-identical files wherever the generator is built.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace intraday::gen {

/// splitmix64's finaliser: a bijective, well-mixed hash of 64 bits.
constexpr uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Seed of an independent stream named by a tuple of keys, e.g. (seed, tag, ListingId, day).
/// Streams depend only on their keys, never on the order in which they are created: this is what
/// makes the output independent of generation order and thread count.
constexpr uint64_t StreamSeed(std::initializer_list<uint64_t> keys) {
  uint64_t h = 0x6a09e667f3bcc909ULL;
  for (uint64_t k : keys) h = Mix64(h ^ Mix64(k));
  return h;
}

/// Names of the streams, so that two uses never share one by accident.
enum class StreamTag : uint64_t {
  kUniverse = 1,
  kRank = 2,
  kListingDay = 3,  // activity noise, quiet days
  kSession = 4,     // market-state jitter
  kLatent = 5,      // per instrument-day efficient price path
  kFlow = 6,        // continuous L3 message flow
  kAuction = 7,     // auction order flow
  kOffBook = 8,     // off-book prints
  kTradeFlags = 9,  // per-print attributes (flags, participant type)
};

inline uint64_t StreamSeed(uint64_t seed, StreamTag tag, uint64_t a = 0, uint64_t b = 0) {
  return StreamSeed({seed, static_cast<uint64_t>(tag), a, b});
}

/// xoshiro256** (Blackman and Vigna), seeded from splitmix64. Small, fast, and fully specified.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& word : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      word = Mix64(seed - 0x9e3779b97f4a7c15ULL);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  /// Uniform in (0, 1]: safe under log().
  double UniformOpen() { return 1.0 - Uniform(); }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }

  /// Uniform integer in [0, n) by the multiply-high method (bias below 2^-64 * n: irrelevant here).
  uint64_t Below(uint64_t n) {
    __extension__ typedef unsigned __int128 U128;  // __extension__: no -Wpedantic warning
    return static_cast<uint64_t>((static_cast<U128>(Next()) * n) >> 64);
  }
  /// Uniform integer in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  bool Bernoulli(double p) { return Uniform() < p; }

  double Exponential(double mean) { return -std::log(UniformOpen()) * mean; }

  /// Standard normal by the Marsaglia polar method (no trigonometry; log and sqrt only).
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * Uniform() - 1.0;
      v = 2.0 * Uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }
  double LogNormal(double median, double sigma) { return median * std::exp(sigma * Normal()); }

  /// Failures before the first success, success probability p in (0, 1].
  int64_t Geometric(double p) {
    if (p >= 1.0) return 0;
    return static_cast<int64_t>(std::floor(std::log(UniformOpen()) / std::log1p(-p)));
  }

 private:
  static constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace intraday::gen
