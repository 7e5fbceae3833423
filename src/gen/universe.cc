#include "gen/universe.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "gen/random.h"

namespace intraday::gen {
namespace {

constexpr int64_t kFirstListingId = 100'001;
constexpr int64_t kFirstInstrumentId = 500'001;
constexpr double kDualListingShare = 0.15;
constexpr double kSecondaryActivity = 0.25;  // a secondary listing trades less than its primary

// A 4-letter ticker, unique for k < 26^4: k -> (k * 7919 + 4711) mod 26^4 is a bijection.
std::string Ticker(int64_t k) {
  constexpr int64_t kSpace = 26 * 26 * 26 * 26;
  int64_t x = (k * 7919 + 4711) % kSpace;
  std::string out(4, 'A');
  for (int i = 3; i >= 0; --i) {
    out[i] = static_cast<char>('A' + x % 26);
    x /= 26;
  }
  return out;
}

// ISIN: country, 9 alphanumerics, Luhn check digit over the letters-as-numbers expansion.
std::string Isin(std::string_view country, int64_t k) {
  std::string body = fmt::format("{}SYN{:06d}", country, k % 1'000'000);
  std::string digits;
  for (char c : body) {
    if (c >= 'A' && c <= 'Z') {
      digits += std::to_string(c - 'A' + 10);
    } else {
      digits += c;
    }
  }
  int sum = 0;
  bool twice = true;  // the rightmost digit of the payload is doubled
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return body + static_cast<char>('0' + (10 - sum % 10) % 10);
}

// FIGI-like: "BBG" and 9 characters from FIGI's alphabet (no vowels).
std::string Figi(uint64_t h) {
  static constexpr std::string_view kAlphabet = "BCDFGHJKLMNPQRSTVWXYZ0123456789";
  std::string out = "BBG";
  for (int i = 0; i < 9; ++i) {
    out += kAlphabet[h % kAlphabet.size()];
    h /= kAlphabet.size();
  }
  return out;
}

std::string_view CompanySuffix(std::string_view country) {
  if (country == "GB") return "PLC";
  if (country == "DE" || country == "CH") return "AG";
  if (country == "NL" || country == "BE") return "NV";
  if (country == "IT") return "SPA";
  return "SA";
}

}  // namespace

TickSize TickSize::ForPrice(double price, double max_bps) {
  const double limit = price * max_bps * 1e-4;
  TickSize best{1, 10'000};  // 0.0001: the finest grid
  for (int64_t exp = -4; exp <= 2; ++exp) {
    for (int64_t mantissa : {1, 2, 5}) {
      TickSize t = exp < 0 ? TickSize{mantissa, static_cast<int64_t>(std::llround(std::pow(10.0, -exp)))}
                           : TickSize{mantissa * static_cast<int64_t>(std::llround(std::pow(10.0, exp))), 1};
      if (t.value() <= limit * (1 + 1e-12)) best = t;
    }
  }
  return best;
}

Universe Universe::Build(uint64_t seed, int64_t n_listings, std::span<const std::string> mics) {
  Universe u;
  const int64_t n_mics = static_cast<int64_t>(mics.size());
  std::vector<const VenueInfo*> venues;
  for (const auto& mic : mics) venues.push_back(*FindVenue(mic));

  // Instruments in order; each takes one listing, or two when dual-listed. Every draw comes from
  // the instrument's own stream, so a universe of N listings is a prefix of one of N + k.
  int64_t k = 0;
  while (static_cast<int64_t>(u.listings_.size()) < n_listings) {
    Rng rng(StreamSeed(seed, StreamTag::kUniverse, static_cast<uint64_t>(k)));
    const int64_t room = n_listings - static_cast<int64_t>(u.listings_.size());
    const bool dual = n_mics >= 2 && room >= 2 && rng.Bernoulli(kDualListingShare);
    const VenueInfo* primary_venue = venues[k % n_mics];
    const double daily_vol = rng.Uniform(0.008, 0.02);
    const double primary_price = rng.LogNormal(primary_venue->typical_price, 0.8);
    const std::string ticker = Ticker(k);
    const std::string isin = Isin(primary_venue->country, k);
    const std::string figi_share_class = Figi(Mix64(seed ^ Mix64(k * 3 + 1)));
    const std::string description =
        fmt::format("SYNTHETIC {} {}", ticker, CompanySuffix(primary_venue->country));
    const int primary_index = static_cast<int>(u.listings_.size());

    for (int leg = 0; leg < (dual ? 2 : 1); ++leg) {
      Listing l;
      l.index = static_cast<int>(u.listings_.size());
      l.primary_index = primary_index;
      l.listing_id = kFirstListingId + l.index;
      l.instrument_id = kFirstInstrumentId + k;
      l.is_primary = leg == 0;
      l.venue =
          leg == 0 ? primary_venue : venues[(k + 1 + static_cast<int64_t>(rng.Below(n_mics - 1))) % n_mics];
      l.ticker = ticker;
      l.isin = isin;
      l.description = description;
      l.figi = Figi(Mix64(seed ^ Mix64(l.listing_id * 3)));
      l.figi_composite = Figi(Mix64(seed ^ Mix64(k * 3 + 2) ^ Mix64(l.venue->country[0])));
      l.figi_share_class = figi_share_class;
      l.reuters_instrument_id = std::to_string(200'000 + k * 7);
      l.reuters_organization_id = std::to_string(10'000 + k * 3);
      l.reuters_quote_id = std::to_string(1'000'000 + l.listing_id * 11 % 999'983);
      l.fx_from_primary = primary_venue->eur_per_unit / l.venue->eur_per_unit;
      l.base_price = primary_price * l.fx_from_primary;
      l.tick = TickSize::ForPrice(l.base_price);
      l.daily_vol = daily_vol;
      u.listings_.push_back(std::move(l));
    }
    ++k;
  }

  // Activity: Zipf weights over a seeded random ranking, so that the busiest listings are spread
  // over MICs and ListingIds. Normalised to mean 1.
  const int64_t n = static_cast<int64_t>(u.listings_.size());
  std::vector<int64_t> rank(n);
  std::iota(rank.begin(), rank.end(), 0);
  Rng rank_rng(StreamSeed(seed, StreamTag::kRank, static_cast<uint64_t>(n)));
  for (int64_t i = n - 1; i > 0; --i) std::swap(rank[i], rank[rank_rng.Below(i + 1)]);
  double total = 0;
  for (auto& l : u.listings_) {
    l.activity = std::pow(static_cast<double>(rank[l.index] + 1), -kZipfExponent);
    if (!l.is_primary) l.activity *= kSecondaryActivity;
    total += l.activity;
  }
  for (auto& l : u.listings_) {
    l.activity *= static_cast<double>(n) / total;
    const double price_eur = l.base_price * l.venue->eur_per_unit;
    // Busier names rest larger orders: median order value 4-20k EUR.
    const double order_value_eur = std::clamp(6'000.0 * std::pow(l.activity, 0.25), 4'000.0, 20'000.0);
    l.median_order_size = std::max(1.0, order_value_eur / price_eur);
    l.block_notional_eur = l.activity >= 3     ? 650'000
                           : l.activity >= 1   ? 500'000
                           : l.activity >= 0.3 ? 300'000
                           : l.activity >= 0.1 ? 100'000
                                               : 50'000;
  }
  return u;
}

std::vector<const Listing*> Universe::OnMic(std::string_view mic) const {
  std::vector<const Listing*> out;
  for (const auto& l : listings_) {
    if (l.venue->mic == mic) out.push_back(&l);
  }
  return out;  // listings_ is in ListingId order already
}

}  // namespace intraday::gen
