#include "common/date.h"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

namespace intraday {
namespace {

std::chrono::year_month_day Ymd(int32_t days) {
  return std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{days}}};
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

Date Date::FromYmd(int year, unsigned month, unsigned day) {
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                                        std::chrono::day{day}};
  return Date(static_cast<int32_t>(std::chrono::sys_days{ymd}.time_since_epoch().count()));
}

Result<Date> Date::Parse(std::string_view text) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  const std::string s(text);
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' ||
      std::sscanf(s.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) {
    return Status::Invalid("'", s, "' is not a date of the form YYYY-MM-DD");
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return Status::Invalid("'", s, "' is not a valid calendar date");
  return FromYmd(y, m, d);
}

int Date::year() const { return static_cast<int>(Ymd(days_).year()); }
unsigned Date::month() const { return static_cast<unsigned>(Ymd(days_).month()); }
unsigned Date::day() const { return static_cast<unsigned>(Ymd(days_).day()); }

unsigned Date::iso_weekday() const {
  return std::chrono::weekday{std::chrono::sys_days{std::chrono::days{days_}}}.iso_encoding();
}

std::string Date::ToString() const { return fmt::format("{:04d}-{:02d}-{:02d}", year(), month(), day()); }
std::string Date::Compact() const { return fmt::format("{:04d}{:02d}{:02d}", year(), month(), day()); }

Date DateOfNanos(int64_t ns) {
  return Date::FromDaysSinceEpoch(static_cast<int32_t>(FloorDiv(ns, kNanosPerDay)));
}

std::string FormatNanos(int64_t ns) {
  const Date date = DateOfNanos(ns);
  const int64_t in_day = ns - date.start_ns();
  const int64_t secs = in_day / kNanosPerSecond;
  return fmt::format("{} {:02d}:{:02d}:{:02d}.{:09d}", date.ToString(), secs / 3600, secs / 60 % 60,
                     secs % 60, in_day % kNanosPerSecond);
}

}  // namespace intraday
