// Sizes from history (docs/planning.md): per listing and table, the median of the rows recorded
// over the last recorded days (size_history.h), and the choice, per input file, between those
// medians and the file's own exact counts, following run.size_estimates. Pure functions of the
// recorded days and the universe, so that the choice is tested without any file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/pipeline_config.h"
#include "plan/day_plan.h"
#include "plan/size_history.h"

namespace intraday {

/// How many recorded days the medians are taken over: the latest ones before the planned day.
/// Two to three weeks of trading, as the reference design's 14-day median of trade counts.
inline constexpr size_t kHistoryDays = 14;
/// `auto` uses history only when every listing has at least this many recorded days of every
/// table: a median of fewer days is too easily one unusual day.
inline constexpr int kAutoMinHistoryDays = 5;

/// The upper median (of an even count, the larger middle value: errs high, the safe side of a
/// memory budget). `values` must not be empty.
int64_t UpperMedian(std::vector<int64_t> values);

/// The recorded rows of each listing and table over a window of recorded days.
class HistoryWindow {
 public:
  HistoryWindow() = default;
  /// `days`: the recorded days of the window, in any order.
  explicit HistoryWindow(const std::vector<RecordedDay>& days);

  /// The window's days, latest first.
  const std::vector<Date>& days() const { return days_; }
  /// On how many of the window's days the listing's rows of `table` were recorded.
  int DaysOf(Table table, int64_t listing) const;
  /// The upper median of those rows; nullopt when none was recorded.
  std::optional<int64_t> MedianRows(Table table, int64_t listing) const;

 private:
  std::vector<Date> days_;
  std::map<Table, std::unordered_map<int64_t, std::vector<int64_t>>> rows_;
};

/// Which input files of a day are sized from history, and why.
struct SizeSourceChoice {
  std::set<std::pair<Table, std::string>> from_history;  // (table, MIC)
  std::string reason;

  bool FromHistory(Table table, const std::string& mic) const {
    return from_history.count({table, mic}) != 0;
  }
};

/// The rules of run.size_estimates, over the tables a pass reads and the MICs of the universe:
///   scan:    no file is sized from history;
///   auto:    every file is, if every listing of the universe has at least `auto_min_days`
///            recorded days of every table; otherwise none is (one rule for the whole day);
///   history: the file of (table, MIC) is, if every listing of that MIC has at least one recorded
///            day of that table; the others are sized from themselves, so that a listing without
///            history is never counted as zero.
SizeSourceChoice ChooseSizeSources(SizeEstimates mode, const Universe& universe,
                                   std::span<const Table> tables, const HistoryWindow& history,
                                   int auto_min_days = kAutoMinHistoryDays);

}  // namespace intraday
