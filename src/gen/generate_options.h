// The options of `intraday generate` as a plain struct with defaults, the activity profiles,
// and the calendar helpers that turn a date range into trading days (weekdays only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/date.h"
#include "common/status.h"
#include "io/lake.h"
#include "io/table_catalog.h"

namespace intraday::gen {

/// Row order inside a file. kTime: rows of all listings interleaved by event time (as many vendor
/// files are). kListing: rows sorted by ListingId then time, and a listing that fills a row group
/// gets row groups of its own, so that row-group statistics on ListingId are disjoint.
enum class Layout { kTime, kListing };

/// Default per-listing-day activity. The number is the mean count of continuous-trading L3 events
/// per listing-day (before the skew across listings and the day-to-day noise).
enum class Profile { kTiny, kSmall, kMedium, kLarge };

Result<Profile> ParseProfile(std::string_view name);
std::string_view ProfileName(Profile profile);
int64_t ProfileMeanEvents(Profile profile);

Result<Layout> ParseLayout(std::string_view name);
std::string_view LayoutName(Layout layout);

struct GenerateOptions {
  std::string out;  // local directory or s3://bucket/prefix
  S3Settings s3;
  int64_t listings = 20;
  std::vector<Date> days;  // trading days, ascending, no weekends (see WeekdaysFrom/Between)
  std::vector<std::string> mics = {"XLON", "XPAR", "XETR", "XAMS"};
  uint64_t seed = 1;
  Profile profile = Profile::kSmall;
  /// Overrides the profile's mean events per listing-day when > 0.
  int64_t mean_events = 0;
  Layout layout = Layout::kTime;
  int64_t row_group_rows = 128 * 1024;
  int threads = 0;  // 0 = one per hardware thread
  std::vector<Table> tables = {Table::kTrades,    Table::kL2,   Table::kL3,       Table::kMarketState,
                               Table::kReference, Table::kCbbo, Table::kImbalance};

  int64_t EffectiveMeanEvents() const { return mean_events > 0 ? mean_events : ProfileMeanEvents(profile); }
  /// Checks ranges and that every MIC is one the generator models.
  Status Validate() const;
};

/// `count` weekdays starting at `start` (itself included when it is a weekday).
std::vector<Date> WeekdaysFrom(Date start, int count);
/// The weekdays of [start, end]; an error when end < start.
Result<std::vector<Date>> WeekdaysBetween(Date start, Date end);

/// "trades,l2" -> tables. Error lists the valid keys.
Result<std::vector<Table>> ParseTables(std::string_view list);

}  // namespace intraday::gen
