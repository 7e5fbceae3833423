// `intraday generate` as a library call: builds the universe, then writes every (day, MIC) file
// set on a pool of threads. Each (day, MIC) is one task; inside it the listings are simulated
// either interleaved by event time (time layout: a merge over the listings' next events) or one
// after the other (listing layout). The files are a function of the options alone: not of the
// thread count, nor of the order in which tasks run.
#pragma once

#include <functional>
#include <vector>

#include "common/date.h"
#include "common/status.h"
#include "gen/generate_options.h"
#include "gen/mic_day_writer.h"

namespace intraday::gen {

struct DaySummary {
  Date day;
  TableCounts counts;
  double seconds = 0;  // wall time from the start of the run to the day's completion
};

struct GenerateReport {
  std::vector<DaySummary> days;
  TableCounts total;
  double seconds = 0;
};

/// Called once per day, in day order, as soon as all of the day's files are written.
using DayCallback = std::function<void(const DaySummary&)>;

Result<GenerateReport> GenerateLake(const GenerateOptions& options, const DayCallback& on_day = nullptr);

/// "trades 1234, l2 5678, ..." for the tables of `options`, in their order.
std::string FormatCounts(const TableCounts& counts, const std::vector<Table>& tables);

}  // namespace intraday::gen
