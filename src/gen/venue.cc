#include "gen/venue.h"

#include <algorithm>
#include <array>
#include <string>

#include "gen/random.h"

namespace intraday::gen {
namespace {

using MS = MarketState;
constexpr int H(int hours, int minutes = 0) { return hours * 3600 + minutes * 60; }
constexpr int64_t kMillisNs = 1'000'000;
constexpr int64_t kSecondNs = 1'000 * kMillisNs;

// Local times. Jitter: uncrossings end at a random instant (LSE and Xetra randomise up to 30 s).
constexpr ScheduleEntry kLondon[] = {
    {H(7, 15), MS::kClosed, 'T', 50 * kMillisNs},     {H(7, 50), MS::kOpeningAuction, 'a', 50 * kMillisNs},
    {H(8), MS::kContinuous, 'T', 30 * kSecondNs},     {H(16, 30), MS::kClosingAuction, 'd', 100 * kMillisNs},
    {H(16, 35), MS::kPostTrade, 'u', 30 * kSecondNs}, {H(16, 40), MS::kClosed, 'b', 50 * kMillisNs},
    {H(17, 15), MS::kClosed, 'x', 50 * kMillisNs},    {H(17, 30), MS::kClosed, 'c', 100 * kMillisNs},
};
constexpr ScheduleEntry kEuronext[] = {
    {H(6, 45), MS::kClosed, 'C', 50 * kMillisNs},    {H(7, 15), MS::kOpeningAuction, 'P', 50 * kMillisNs},
    {H(9), MS::kContinuous, 'O', 2 * kSecondNs},     {H(17, 30), MS::kClosingAuction, 'P', 100 * kMillisNs},
    {H(17, 35), MS::kPostTrade, 'T', 2 * kSecondNs}, {H(17, 40), MS::kClosed, 'C', 50 * kMillisNs},
};
constexpr ScheduleEntry kXetra[] = {
    {H(7, 30), MS::kPreOpen, 'p', 50 * kMillisNs},    {H(8, 50), MS::kOpeningAuction, 'a', 50 * kMillisNs},
    {H(9), MS::kContinuous, 'T', 30 * kSecondNs},     {H(17, 30), MS::kClosingAuction, 'd', 100 * kMillisNs},
    {H(17, 35), MS::kPostTrade, 'u', 30 * kSecondNs}, {H(17, 45), MS::kClosed, 'c', 50 * kMillisNs},
    {H(20), MS::kClosed, 'x', 50 * kMillisNs},
};
constexpr ScheduleEntry kMilan[] = {
    {H(7, 30), MS::kPreOpen, 'p', 50 * kMillisNs},    {H(8), MS::kOpeningAuction, 'a', 50 * kMillisNs},
    {H(9), MS::kContinuous, 'T', 60 * kSecondNs},     {H(17, 30), MS::kClosingAuction, 'd', 100 * kMillisNs},
    {H(17, 35), MS::kPostTrade, 'u', 60 * kSecondNs}, {H(17, 42), MS::kClosed, 'c', 50 * kMillisNs},
};
constexpr ScheduleEntry kMadrid[] = {
    {H(8), MS::kClosed, 'C', 50 * kMillisNs},         {H(8, 30), MS::kOpeningAuction, 'a', 50 * kMillisNs},
    {H(9), MS::kContinuous, 'T', 30 * kSecondNs},     {H(17, 30), MS::kClosingAuction, 'd', 100 * kMillisNs},
    {H(17, 35), MS::kPostTrade, 'u', 30 * kSecondNs}, {H(17, 40), MS::kClosed, 'c', 50 * kMillisNs},
};
constexpr ScheduleEntry kSwiss[] = {
    {H(6), MS::kPreOpen, 'p', 50 * kMillisNs},       {H(6, 30), MS::kOpeningAuction, 'a', 50 * kMillisNs},
    {H(9), MS::kContinuous, 'T', 5 * kSecondNs},     {H(17, 20), MS::kClosingAuction, 'd', 100 * kMillisNs},
    {H(17, 30), MS::kPostTrade, 'u', 5 * kSecondNs}, {H(17, 40), MS::kClosed, 'c', 50 * kMillisNs},
};

// FX (fixed): GBP = 1.1469 EUR = 1.3443 USD, EUR = 1.1721 USD, CHF = 1.0650 EUR.
constexpr double kEurUsd = 1.1721;
constexpr std::array<VenueInfo, 8> kVenues{{
    {"XLON", "GBp", "GB", "UK", "SET1", 0.01, 0.011469, 0.013443, 400.0, TimeZone::kLondon, kLondon},
    {"XPAR", "EUR", "FR", "EU", "EQTA", 1.0, 1.0, kEurUsd, 60.0, TimeZone::kCentralEurope, kEuronext},
    {"XETR", "EUR", "DE", "EU", "DAX", 1.0, 1.0, kEurUsd, 80.0, TimeZone::kCentralEurope, kXetra},
    {"XAMS", "EUR", "NL", "EU", "EQTA", 1.0, 1.0, kEurUsd, 40.0, TimeZone::kCentralEurope, kEuronext},
    {"XBRU", "EUR", "BE", "EU", "EQTA", 1.0, 1.0, kEurUsd, 50.0, TimeZone::kCentralEurope, kEuronext},
    {"XMIL", "EUR", "IT", "EU", "MTA", 1.0, 1.0, kEurUsd, 15.0, TimeZone::kCentralEurope, kMilan},
    {"XMAD", "EUR", "ES", "EU", "SIBE", 1.0, 1.0, kEurUsd, 12.0, TimeZone::kCentralEurope, kMadrid},
    {"XSWX", "CHF", "CH", "CH", "SWXB", 1.0, 1.0650, 1.0650 * kEurUsd, 120.0, TimeZone::kCentralEurope,
     kSwiss},
}};

// The last Sunday of a month, as a date.
Date LastSunday(int year, unsigned month) {
  Date d = month == 12 ? Date::FromYmd(year + 1, 1, 1) : Date::FromYmd(year, month + 1, 1);
  do {
    d = Date::FromDaysSinceEpoch(d.days_since_epoch() - 1);
  } while (d.iso_weekday() != 7);
  return d;
}

}  // namespace

std::string_view MarketStateName(MarketState state) {
  switch (state) {
    case MS::kPreOpen: return "PRE_OPEN";
    case MS::kOpeningAuction: return "OPENING_AUCTION";
    case MS::kContinuous: return "CONTINUOUS_TRADING";
    case MS::kClosingAuction: return "CLOSING_AUCTION";
    case MS::kPostTrade: return "POST_TRADE";
    case MS::kClosed: return "CLOSED";
    case MS::kNotApplicable: return "NOT_APPLICABLE";
  }
  return "UNKNOWN";
}

Result<const VenueInfo*> FindVenue(std::string_view mic) {
  for (const auto& venue : kVenues) {
    if (venue.mic == mic) return &venue;
  }
  std::string known;
  for (const auto& venue : kVenues) known += (known.empty() ? "" : ", ") + std::string(venue.mic);
  return Status::Invalid("MIC '", mic, "' is not modelled by the generator: expected one of ", known);
}

std::span<const VenueInfo> AllVenues() { return kVenues; }

int UtcOffsetMinutes(TimeZone tz, Date day) {
  const int standard = tz == TimeZone::kLondon ? 0 : 60;
  // Trading days are weekdays, so the switch instant (01:00 UTC on a Sunday) never falls inside one.
  const bool summer = LastSunday(day.year(), 3) < day && day < LastSunday(day.year(), 10);
  return standard + (summer ? 60 : 0);
}

MarketState Session::StateAt(int64_t t) const {
  MarketState state = MarketState::kClosed;
  for (const auto& change : changes) {
    if (change.time_ns > t) break;
    state = change.state;
  }
  return state;
}

Session MakeSession(const VenueInfo& venue, Date day, Rng* rng) {
  Session session;
  const int64_t local_offset_ns = int64_t{UtcOffsetMinutes(venue.tz, day)} * 60 * kSecondNs;
  int64_t last = 0;
  for (const auto& entry : venue.schedule) {
    int64_t t = day.start_ns() + int64_t{entry.local_seconds} * kSecondNs - local_offset_ns;
    if (rng != nullptr) t += static_cast<int64_t>(rng->Below(static_cast<uint64_t>(entry.jitter_ns)));
    t = std::max(t, last + 1);
    last = t;
    session.changes.push_back({t, entry.state, entry.exchange_code});
    switch (entry.state) {
      case MS::kOpeningAuction: session.opening_auction = t; break;
      case MS::kContinuous: session.open = t; break;
      case MS::kClosingAuction: session.closing_auction = t; break;
      case MS::kPostTrade: session.close = t; break;
      case MS::kClosed:
        if (session.close != 0 && session.end == 0) session.end = t;
        break;
      default: break;
    }
  }
  return session;
}

}  // namespace intraday::gen
