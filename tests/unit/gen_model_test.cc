// Unit tests of the generator's building blocks: the PRNG, the order book, sessions and time
// zones, tick sizes, the universe.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "gen/generate_options.h"
#include "gen/order_book.h"
#include "gen/random.h"
#include "gen/universe.h"
#include "gen/venue.h"

namespace intraday::gen {
namespace {

TEST(GenRandom, StreamsAreFixedFunctionsOfTheirKeys) {
  // Pinned values: a change here changes every generated lake.
  Rng rng(StreamSeed(1, StreamTag::kFlow, 100001, 20455));
  Rng again(StreamSeed(1, StreamTag::kFlow, 100001, 20455));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(rng.Next(), again.Next());
  EXPECT_NE(StreamSeed(1, StreamTag::kFlow, 100001, 20455), StreamSeed(1, StreamTag::kFlow, 100002, 20455));
  EXPECT_NE(StreamSeed(1, StreamTag::kFlow, 100001, 20455), StreamSeed(1, StreamTag::kFlow, 100001, 20456));
  EXPECT_NE(StreamSeed(1, StreamTag::kFlow, 100001, 20455), StreamSeed(2, StreamTag::kFlow, 100001, 20455));
  EXPECT_EQ(Mix64(0), 0xe220a8397b1dcdafULL);  // splitmix64's first output for state 0
  Rng fixed(42);
  EXPECT_EQ(fixed.Next(), Rng(42).Next());
}

TEST(GenRandom, DistributionsStayInRange) {
  Rng rng(7);
  double sum = 0;
  for (int i = 0; i < 10'000; ++i) {
    const double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    const int64_t k = rng.Between(3, 5);
    ASSERT_GE(k, 3);
    ASSERT_LE(k, 5);
    ASSERT_GE(rng.Geometric(0.5), 0);
    sum += rng.Normal();
  }
  EXPECT_NEAR(sum / 10'000, 0.0, 0.05);
}

TEST(GenOrderBook, QueuesLevelsAndPositions) {
  OrderBook book(1000);
  int32_t before = -1;
  OrderBook::Position pos;
  const auto a = book.Add(Side::kBid, 999, 100, 1, &before, &pos);
  EXPECT_EQ(before, 0);  // a new level
  EXPECT_EQ(pos.level, 1);
  EXPECT_EQ(pos.size_ahead, 0);
  const auto b = book.Add(Side::kBid, 999, 50, 2, &before, &pos);
  EXPECT_EQ(before, 1);
  EXPECT_EQ(pos.size_ahead, 100);
  EXPECT_EQ(pos.orders_ahead, 1);
  book.Add(Side::kBid, 1000, 10, 3, &before, &pos);  // a better bid: level 1, pushes 999 to 2
  EXPECT_EQ(book.best(Side::kBid), 1000);
  EXPECT_EQ(book.LevelRank(Side::kBid, 999), 2);
  EXPECT_EQ(book.PositionOf(b).orders_ahead, 1);
  book.Add(Side::kAsk, 1002, 70, 4, &before, &pos);
  book.Add(Side::kAsk, 1005, 80, 5, &before, &pos);
  EXPECT_EQ(book.level_count(Side::kAsk), 2);

  OrderBook::LevelView top[10];
  ASSERT_EQ(book.TopLevels(Side::kBid, 10, top), 2);
  EXPECT_EQ(top[0].tick, 1000);
  EXPECT_EQ(top[1].tick, 999);
  EXPECT_EQ(top[1].quantity, 150);
  EXPECT_EQ(top[1].orders, 2);

  int32_t after = -1;
  book.Remove(a, &pos, &after);  // the front of 999: b moves to the front
  EXPECT_EQ(pos.level, 2);
  EXPECT_EQ(pos.orders_ahead, 0);
  EXPECT_EQ(after, 2);
  EXPECT_EQ(book.PositionOf(b).size_ahead, 0);
  book.Reduce(b, 20);
  EXPECT_EQ(book.LevelQuantity(Side::kBid, 999), 20);
  EXPECT_EQ(book.order_count(), 4);
  book.Remove(book.FrontAt(Side::kBid, 1000), &pos, &after);
  EXPECT_EQ(after, 0);  // the level vanished
  EXPECT_EQ(book.best(Side::kBid), 999);
}

TEST(GenVenue, SessionsFollowLocalTimeAndDaylightSaving) {
  const VenueInfo& xlon = **FindVenue("XLON");
  const VenueInfo& xpar = **FindVenue("XPAR");
  const Date winter = Date::FromYmd(2026, 1, 2), summer = Date::FromYmd(2026, 6, 15);
  EXPECT_EQ(UtcOffsetMinutes(TimeZone::kLondon, winter), 0);
  EXPECT_EQ(UtcOffsetMinutes(TimeZone::kLondon, summer), 60);
  EXPECT_EQ(UtcOffsetMinutes(TimeZone::kCentralEurope, winter), 60);
  EXPECT_EQ(UtcOffsetMinutes(TimeZone::kCentralEurope, summer), 120);
  // 2026: summer time from Sunday 29 March to Sunday 25 October.
  EXPECT_EQ(UtcOffsetMinutes(TimeZone::kLondon, Date::FromYmd(2026, 3, 27)), 0);
  EXPECT_EQ(UtcOffsetMinutes(TimeZone::kLondon, Date::FromYmd(2026, 3, 30)), 60);
  EXPECT_EQ(UtcOffsetMinutes(TimeZone::kLondon, Date::FromYmd(2026, 10, 23)), 60);
  EXPECT_EQ(UtcOffsetMinutes(TimeZone::kLondon, Date::FromYmd(2026, 10, 26)), 0);

  const int64_t h = 3600LL * 1'000'000'000;
  const Session london = MakeSession(xlon, winter, nullptr);
  EXPECT_EQ(london.opening_auction, winter.start_ns() + 7 * h + 50 * h / 60);
  EXPECT_EQ(london.open, winter.start_ns() + 8 * h);
  EXPECT_EQ(london.closing_auction, winter.start_ns() + 16 * h + 30 * h / 60);
  EXPECT_GE(london.changes.size(), 6u);
  EXPECT_LE(london.changes.size(), 10u);
  EXPECT_EQ(london.StateAt(london.open + 1), MarketState::kContinuous);
  EXPECT_EQ(london.StateAt(london.open - 1), MarketState::kOpeningAuction);
  const Session paris_summer = MakeSession(xpar, summer, nullptr);
  EXPECT_EQ(paris_summer.open, summer.start_ns() + 7 * h);  // 09:00 CEST
  Rng rng(3);
  const Session jittered = MakeSession(xlon, winter, &rng);
  EXPECT_GE(jittered.open, london.open);
  EXPECT_LT(jittered.open, london.open + 30 * h / 3600);
  EXPECT_FALSE(FindVenue("XNYS").ok());
}

TEST(GenUniverse, TicksListingsAndSkew) {
  EXPECT_DOUBLE_EQ(TickSize::ForPrice(100.0).value(), 0.02);  // 2 bp of 100
  EXPECT_DOUBLE_EQ(TickSize::ForPrice(400.0).value(), 0.05);
  EXPECT_DOUBLE_EQ((TickSize{1, 100}.Price(9972)), 99.72);
  for (double price : {0.5, 3.7, 42.0, 999.0, 5'000.0}) {
    const double bps = TickSize::ForPrice(price).value() / price * 1e4;
    EXPECT_GE(bps, 0.8) << price;
    EXPECT_LE(bps, 2.0 + 1e-9) << price;
  }

  const std::vector<std::string> mics = {"XLON", "XPAR", "XETR", "XAMS"};
  const Universe u = Universe::Build(5, 60, mics);
  ASSERT_EQ(u.listings().size(), 60u);
  std::set<int64_t> ids;
  std::map<int64_t, std::set<std::string>> mics_of_instrument;
  double total = 0;
  for (const auto& l : u.listings()) {
    ids.insert(l.listing_id);
    mics_of_instrument[l.instrument_id].insert(std::string(l.venue->mic));
    total += l.activity;
    EXPECT_EQ(l.venue->currency, l.venue->mic == "XLON" ? "GBp" : "EUR");
  }
  EXPECT_EQ(ids.size(), 60u);
  EXPECT_NEAR(total / 60, 1.0, 1e-9);
  int dual = 0;
  for (const auto& [instrument, venues] : mics_of_instrument) dual += venues.size() == 2;
  EXPECT_GE(dual, 2);  // some instruments are listed on two MICs (never twice on one)
  for (const auto& mic : mics) EXPECT_FALSE(u.OnMic(mic).empty()) << mic;
  // A universe is a prefix of a larger one: attributes depend on the listing, not on N.
  const Universe bigger = Universe::Build(5, 80, mics);
  EXPECT_EQ(bigger.listings()[10].ticker, u.listings()[10].ticker);
  EXPECT_EQ(bigger.listings()[10].base_price, u.listings()[10].base_price);
}

TEST(GenOptions, WeekdaysAndParsing) {
  const Date friday = Date::FromYmd(2026, 1, 2);
  const auto days = WeekdaysFrom(friday, 3);
  ASSERT_EQ(days.size(), 3u);
  EXPECT_EQ(days[0].ToString(), "2026-01-02");
  EXPECT_EQ(days[1].ToString(), "2026-01-05");  // Saturday and Sunday skipped
  EXPECT_EQ(days[2].ToString(), "2026-01-06");
  auto between = WeekdaysBetween(Date::FromYmd(2026, 1, 3), Date::FromYmd(2026, 1, 11));
  ASSERT_TRUE(between.ok());
  EXPECT_EQ(between->size(), 5u);
  EXPECT_TRUE(WeekdaysBetween(Date::FromYmd(2026, 1, 3), Date::FromYmd(2026, 1, 4))->empty());
  EXPECT_FALSE(WeekdaysBetween(friday, Date::FromYmd(2026, 1, 1)).ok());
  EXPECT_EQ(*ParseProfile("large"), Profile::kLarge);
  EXPECT_FALSE(ParseProfile("huge").ok());
  EXPECT_EQ(*ParseLayout("listing"), Layout::kListing);
  auto tables = ParseTables("trades,l3");
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(tables->size(), 2u);
  EXPECT_FALSE(ParseTables("trades,quotes").ok());
  GenerateOptions o;
  o.out = "/tmp/x";
  o.days = days;
  EXPECT_TRUE(o.Validate().ok());
  o.mics = {"XLON", "XNYS"};
  EXPECT_FALSE(o.Validate().ok());
}

}  // namespace
}  // namespace intraday::gen
