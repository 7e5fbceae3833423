// Calendar dates (days since 1970-01-01, proleptic Gregorian) and nanosecond timestamps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace intraday {

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr int64_t kNanosPerDay = 86'400 * kNanosPerSecond;

/// A civil date. Cheap to copy, totally ordered.
class Date {
 public:
  constexpr Date() = default;
  static constexpr Date FromDaysSinceEpoch(int32_t days) { return Date(days); }
  static Date FromYmd(int year, unsigned month, unsigned day);
  /// Parses "YYYY-MM-DD"; rejects impossible dates such as 2026-02-30.
  static Result<Date> Parse(std::string_view text);

  constexpr int32_t days_since_epoch() const { return days_; }
  int year() const;
  unsigned month() const;
  unsigned day() const;
  /// ISO weekday: 1 = Monday ... 7 = Sunday.
  unsigned iso_weekday() const;
  bool is_weekend() const { return iso_weekday() >= 6; }

  /// Nanoseconds since the epoch at 00:00:00 of this date (UTC).
  constexpr int64_t start_ns() const { return int64_t{days_} * kNanosPerDay; }
  constexpr Date next() const { return Date(days_ + 1); }

  std::string ToString() const;  // "2026-01-05"
  std::string Compact() const;   // "20260105"

  friend constexpr auto operator<=>(Date, Date) = default;

 private:
  explicit constexpr Date(int32_t days) : days_(days) {}
  int32_t days_ = 0;
};

/// The date of a nanosecond timestamp (UTC).
Date DateOfNanos(int64_t ns);

/// "2026-01-05 09:30:00.123456789" for logs and error messages.
std::string FormatNanos(int64_t ns);

}  // namespace intraday
