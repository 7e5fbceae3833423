#include "plan/trading_day.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace intraday {

Status CheckTradingDay(const DatesConfig& dates, Date day) {
  static constexpr std::array<std::string_view, 7> kWeekdays{"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                             "Friday", "Saturday", "Sunday"};
  const std::string text = day.ToString();
  if (day.is_weekend()) {
    return Status::Invalid(text, " is not a trading day: a ", kWeekdays[day.iso_weekday() - 1]);
  }
  if (std::binary_search(dates.holidays.begin(), dates.holidays.end(), day)) {
    return Status::Invalid(text, " is not a trading day: a holiday (dates.holidays)");
  }
  // A weekend or a holiday first: that is true of the day whatever the range.
  if (day < dates.start || day > dates.end) {
    return Status::Invalid(text, " is not a trading day of this config: outside dates ",
                           dates.start.ToString(), " .. ", dates.end.ToString());
  }
  return Status::OK();
}

}  // namespace intraday
