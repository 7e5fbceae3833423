// The venues the generator models: currency, country, fixed FX rates, time zone (with EU/UK
// daylight saving) and the daily session schedule, from which each listing-day's market-state
// rows are drawn (with a little jitter, as real uncrossings never happen on the second).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/date.h"
#include "common/status.h"

namespace intraday::gen {

class Rng;

enum class MarketState : uint8_t {
  kPreOpen,
  kOpeningAuction,
  kContinuous,
  kClosingAuction,
  kPostTrade,
  kClosed,
  kNotApplicable,  // off-book prints
};
std::string_view MarketStateName(MarketState state);

enum class TimeZone : uint8_t { kLondon, kCentralEurope };

/// One scheduled state change, in local wall-clock time.
struct ScheduleEntry {
  int local_seconds;  // since local midnight
  MarketState state;
  char exchange_code;  // ExchangeMarketState
  int64_t jitter_ns;   // the change happens up to this much after the nominal time
};

struct VenueInfo {
  std::string_view mic;
  std::string_view currency;      // CurrencyCode of its listings
  std::string_view country;       // ISOCountryCode
  std::string_view jurisdiction;  // "UK" / "EU" / "CH"
  std::string_view segment;       // SegmentCode
  double minor_currency_factor;   // 0.01 for GBp (pence), 1 otherwise
  double eur_per_unit;            // fixed FX: value of one price unit in EUR
  double usd_per_unit;            // and in USD
  double typical_price;           // median price level of its listings, in its currency
  TimeZone tz;
  std::span<const ScheduleEntry> schedule;
};

/// The venue of a MIC; an error listing the modelled MICs otherwise.
Result<const VenueInfo*> FindVenue(std::string_view mic);
std::span<const VenueInfo> AllVenues();

/// Offset of local time from UTC in minutes on a (trading) day: EU/UK summer time runs from the
/// last Sunday of March to the last Sunday of October.
int UtcOffsetMinutes(TimeZone tz, Date day);

struct StateChange {
  int64_t time_ns;
  MarketState state;
  char exchange_code;
};

/// A listing-day's session: the state changes and the times the simulator needs. All UTC ns.
struct Session {
  std::vector<StateChange> changes;  // ascending
  int64_t opening_auction = 0;       // OPENING_AUCTION starts
  int64_t open = 0;                  // opening uncross, CONTINUOUS_TRADING starts
  int64_t closing_auction = 0;       // CLOSING_AUCTION starts
  int64_t close = 0;                 // closing uncross, POST_TRADE starts
  int64_t end = 0;                   // CLOSED after post-trade

  /// The state in force at t (the last change at or before t; CLOSED before the first).
  MarketState StateAt(int64_t t) const;
};

/// The session of a venue on a day. With rng, each change gets its jitter (a listing's own
/// session); without, the nominal times (used for "state at the primary" of other listings).
Session MakeSession(const VenueInfo& venue, Date day, Rng* rng);

}  // namespace intraday::gen
