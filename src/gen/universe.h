// The synthetic universe: instruments and their listings (one per venue; some instruments are
// listed on two MICs, sharing InstrumentId, ISIN and price path), with the static attributes the
// simulator and the reference table need. Built from the seed alone, never from the day.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gen/venue.h"

namespace intraday::gen {

/// A price grid. tick = num / den with den a power of ten, so that a price is computed as an exact
/// integer divided by a power of ten: the double nearest to the decimal price (99.72, never
/// 99.72000000000001).
struct TickSize {
  int64_t num = 1;
  int64_t den = 100;

  double value() const { return static_cast<double>(num) / static_cast<double>(den); }
  double Price(int64_t ticks) const { return static_cast<double>(ticks * num) / static_cast<double>(den); }
  /// The largest 1-2-5 tick not above max_bps of the price: between 0.8 and 2 bp of it.
  static TickSize ForPrice(double price, double max_bps = 2.0);
};

struct Listing {
  int index = 0;          // position in Universe::listings()
  int primary_index = 0;  // the instrument's primary listing (== index when is_primary)
  int64_t listing_id = 0;
  int64_t instrument_id = 0;
  bool is_primary = true;
  const VenueInfo* venue = nullptr;
  std::string ticker, isin, figi, figi_composite, figi_share_class, description;
  std::string reuters_instrument_id, reuters_organization_id, reuters_quote_id;
  double base_price = 0;  // in the listing's currency
  TickSize tick;
  double activity = 1;                  // activity weight; mean 1 over the universe, Zipf-like skew
  double median_order_size = 100;       // shares
  double daily_vol = 0.01;              // of the instrument's efficient price
  double block_notional_eur = 500'000;  // large-in-scale threshold (BlockNotional)
  /// Converts a price of the primary listing into this listing's currency (1 for primaries).
  double fx_from_primary = 1;
};

class Universe {
 public:
  /// `mics` must be modelled venues (see FindVenue); listings are spread over them round-robin
  /// by instrument, with about 15% of instruments also listed on a second MIC.
  static Universe Build(uint64_t seed, int64_t listings, std::span<const std::string> mics);

  const std::vector<Listing>& listings() const { return listings_; }
  /// The listings of a MIC, ascending ListingId.
  std::vector<const Listing*> OnMic(std::string_view mic) const;

 private:
  std::vector<Listing> listings_;
};

/// Zipf exponent of the activity weights: the top 10% of listings carry most of the rows.
inline constexpr double kZipfExponent = 1.3;

}  // namespace intraday::gen
