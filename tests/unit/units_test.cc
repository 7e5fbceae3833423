#include <gtest/gtest.h>

#include "common/date.h"
#include "common/units.h"

namespace intraday {
namespace {

TEST(ParseDuration, UnitsAndErrors) {
  EXPECT_EQ(*ParseDuration("250ms"), 250'000'000);
  EXPECT_EQ(*ParseDuration("1m"), 60'000'000'000);
  EXPECT_EQ(*ParseDuration("1d"), kNanosPerDay);
  EXPECT_EQ(*ParseDuration("100ns"), 100);
  EXPECT_FALSE(ParseDuration("0s").ok());
  EXPECT_FALSE(ParseDuration("1 minute").ok());
  EXPECT_FALSE(ParseDuration("m").ok());
  EXPECT_FALSE(ParseDuration("-5s").ok());
  EXPECT_NE(ParseDuration("5x").status().message().find("unknown duration unit"), std::string::npos);
  EXPECT_EQ(FormatDuration(900'000'000'000), "15m");
  EXPECT_EQ(FormatDuration(1'500'000'000), "1500ms");
}

TEST(ParseByteSize, BinaryDecimalAndErrors) {
  EXPECT_EQ(*ParseByteSize("2GiB"), 2ull << 30);
  EXPECT_EQ(*ParseByteSize("512MiB"), 512ull << 20);
  EXPECT_EQ(*ParseByteSize("1.5GB"), 1'500'000'000ull);
  EXPECT_EQ(*ParseByteSize("4096"), 4096ull);
  EXPECT_FALSE(ParseByteSize("2 gigs").ok());
  EXPECT_FALSE(ParseByteSize("0MiB").ok());
  EXPECT_FALSE(ParseByteSize("").ok());
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
}

TEST(Date, ParseFormatWeekday) {
  auto d = Date::Parse("2026-01-02");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->ToString(), "2026-01-02");
  EXPECT_EQ(d->Compact(), "20260102");
  EXPECT_EQ(d->iso_weekday(), 5u);  // Friday
  EXPECT_TRUE(d->next().is_weekend());
  EXPECT_FALSE(Date::Parse("2026-02-30").ok());
  EXPECT_FALSE(Date::Parse("2026/01/02").ok());
  EXPECT_FALSE(Date::Parse("2026-1-2").ok());
  EXPECT_EQ(DateOfNanos(d->start_ns() + 5), *d);
  EXPECT_EQ(DateOfNanos(d->start_ns() - 1), Date::FromDaysSinceEpoch(d->days_since_epoch() - 1));
  EXPECT_EQ(FormatNanos(d->start_ns() + 3'600'000'000'123), "2026-01-02 01:00:00.000000123");
}

}  // namespace
}  // namespace intraday
