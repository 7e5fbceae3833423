// Whether a date is a trading day of the configured range, with a message that says why not.
#pragma once

#include "common/date.h"
#include "common/status.h"
#include "config/pipeline_config.h"

namespace intraday {

/// OK for a weekday of [dates.start, dates.end] that is not a holiday; otherwise Invalid saying
/// which of the three it is ("2026-03-07 is not a trading day: a Saturday").
Status CheckTradingDay(const DatesConfig& dates, Date day);

}  // namespace intraday
