// Sizes from history (plan/history_sizes.h, plan/size_history.h): the median, the window of
// recorded days, the choice of run.size_estimates between history and the day's files, and the
// record files themselves (merge of tables, days strictly before, corrupt records skipped).
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "plan/history_sizes.h"
#include "plan/size_history.h"
#include "test_support.h"

namespace intraday {
namespace {

const Date kFirstMonday = Date::FromYmd(2026, 1, 12);

Date DaysBefore(Date day, int n) { return Date::FromDaysSinceEpoch(day.days_since_epoch() - n); }

// A recorded day: per table, {listing, rows}.
RecordedDay Day(Date day, std::map<Table, std::map<int64_t, int64_t>> rows) {
  return RecordedDay{day, std::move(rows)};
}

Universe TwoVenues() {
  Universe universe;
  universe.day = kFirstMonday;
  for (int64_t id : {1, 2}) universe.listings.push_back(Listing{id, 0, "XLON", "", "", "", true, {}});
  universe.listings.push_back(Listing{11, 0, "XPAR", "", "", "", true, {}});
  universe.mics = {"XLON", "XPAR"};
  return universe;
}

// `n` recorded days before kFirstMonday where every listing of TwoVenues has `rows` in each table.
std::vector<RecordedDay> Recorded(int n, std::initializer_list<Table> tables, int64_t rows = 10) {
  std::vector<RecordedDay> days;
  for (int i = 1; i <= n; ++i) {
    RecordedDay day{DaysBefore(kFirstMonday, i), {}};
    for (Table table : tables) day.rows[table] = {{1, rows}, {2, rows}, {11, rows}};
    days.push_back(std::move(day));
  }
  return days;
}

TEST(HistoryMedian, UpperMedianErrsHigh) {
  EXPECT_EQ(UpperMedian({7}), 7);
  EXPECT_EQ(UpperMedian({3, 1, 2}), 2);
  EXPECT_EQ(UpperMedian({1, 100}), 100);  // the larger middle value of an even count
  EXPECT_EQ(UpperMedian({4, 1, 3, 2}), 3);
  EXPECT_EQ(UpperMedian({0, 0, 0, 1000}), 0);  // one busy day does not move the median
  EXPECT_EQ(UpperMedian({5, 5, 9, 1, 5}), 5);
}

TEST(HistoryWindow, PerListingAndTableMediansAndDayCounts) {
  const HistoryWindow window(
      {Day(DaysBefore(kFirstMonday, 3), {{Table::kTrades, {{1, 10}, {2, 0}}}}),
       Day(DaysBefore(kFirstMonday, 1), {{Table::kTrades, {{1, 30}}}, {Table::kL3, {{1, 5}}}}),
       Day(DaysBefore(kFirstMonday, 2), {{Table::kTrades, {{1, 20}, {2, 4}}}})});
  EXPECT_EQ(window.days(), (std::vector<Date>{DaysBefore(kFirstMonday, 1), DaysBefore(kFirstMonday, 2),
                                              DaysBefore(kFirstMonday, 3)}));  // latest first
  EXPECT_EQ(window.DaysOf(Table::kTrades, 1), 3);
  EXPECT_EQ(window.MedianRows(Table::kTrades, 1), 20);
  EXPECT_EQ(window.DaysOf(Table::kTrades, 2), 2);
  EXPECT_EQ(window.MedianRows(Table::kTrades, 2), 4);  // a recorded zero is a fact, counted
  EXPECT_EQ(window.DaysOf(Table::kL3, 1), 1);
  EXPECT_EQ(window.DaysOf(Table::kL3, 2), 0);
  EXPECT_EQ(window.MedianRows(Table::kL3, 2), std::nullopt);  // never recorded: no estimate
  EXPECT_EQ(window.MedianRows(Table::kL2, 1), std::nullopt);
}

TEST(HistoryChoice, ScanNeverUsesHistory) {
  const HistoryWindow window(Recorded(14, {Table::kTrades}));
  const Table tables[] = {Table::kTrades};
  const auto choice = ChooseSizeSources(SizeEstimates::kScan, TwoVenues(), tables, window);
  EXPECT_TRUE(choice.from_history.empty());
  EXPECT_NE(choice.reason.find("run.size_estimates is scan"), std::string::npos) << choice.reason;
}

TEST(HistoryChoice, WithoutAnyHistoryEveryModeScans) {
  const Table tables[] = {Table::kTrades};
  for (SizeEstimates mode : {SizeEstimates::kAuto, SizeEstimates::kHistory}) {
    const auto choice = ChooseSizeSources(mode, TwoVenues(), tables, HistoryWindow());
    EXPECT_TRUE(choice.from_history.empty());
    EXPECT_NE(choice.reason.find("no size history before 2026-01-12"), std::string::npos) << choice.reason;
  }
}

TEST(HistoryChoice, AutoNeedsEnoughDaysOfEveryTableForEveryListing) {
  const Table tables[] = {Table::kTrades, Table::kL3};
  // Five days of both tables: the whole day from history.
  auto enough = ChooseSizeSources(SizeEstimates::kAuto, TwoVenues(), tables,
                                  HistoryWindow(Recorded(kAutoMinHistoryDays, {Table::kTrades, Table::kL3})));
  EXPECT_EQ(enough.from_history.size(), 4u);
  EXPECT_TRUE(enough.FromHistory(Table::kL3, "XPAR"));
  EXPECT_NE(enough.reason.find("every listing has at least 5 recorded days"), std::string::npos)
      << enough.reason;

  // One day short: nothing from history.
  auto short_days =
      ChooseSizeSources(SizeEstimates::kAuto, TwoVenues(), tables,
                        HistoryWindow(Recorded(kAutoMinHistoryDays - 1, {Table::kTrades, Table::kL3})));
  EXPECT_TRUE(short_days.from_history.empty());
  EXPECT_NE(short_days.reason.find("listing 1 has 4 recorded days of trades"), std::string::npos)
      << short_days.reason;

  // Enough of trades, none of l3 (recorded by a pass that did not read it): all from the files.
  auto other_table = ChooseSizeSources(SizeEstimates::kAuto, TwoVenues(), tables,
                                       HistoryWindow(Recorded(kHistoryDays, {Table::kTrades})));
  EXPECT_TRUE(other_table.from_history.empty());
  EXPECT_NE(other_table.reason.find("0 recorded days of l3"), std::string::npos) << other_table.reason;

  // A listing new to the universe: one rule for the whole day.
  std::vector<RecordedDay> days = Recorded(kHistoryDays, {Table::kTrades, Table::kL3});
  for (auto& day : days) day.rows[Table::kTrades].erase(11);
  auto newcomer = ChooseSizeSources(SizeEstimates::kAuto, TwoVenues(), tables, HistoryWindow(days));
  EXPECT_TRUE(newcomer.from_history.empty());
  EXPECT_NE(newcomer.reason.find("listing 11 has 0 recorded days of trades"), std::string::npos)
      << newcomer.reason;
}

TEST(HistoryChoice, HistoryModeScansOnlyTheFilesOfListingsWithoutHistory) {
  const Table tables[] = {Table::kTrades, Table::kL3};
  std::vector<RecordedDay> days = Recorded(1, {Table::kTrades, Table::kL3});  // one day is enough
  days[0].rows[Table::kL3].erase(11);                                         // XPAR's l3 unknown
  const auto choice = ChooseSizeSources(SizeEstimates::kHistory, TwoVenues(), tables, HistoryWindow(days));
  EXPECT_TRUE(choice.FromHistory(Table::kTrades, "XLON"));
  EXPECT_TRUE(choice.FromHistory(Table::kTrades, "XPAR"));
  EXPECT_TRUE(choice.FromHistory(Table::kL3, "XLON"));
  EXPECT_FALSE(choice.FromHistory(Table::kL3, "XPAR"));  // never counted as zero: its file is read
  EXPECT_NE(choice.reason.find("3 of 4 (table, MIC) files"), std::string::npos) << choice.reason;
  EXPECT_NE(choice.reason.find("first: listing 11, l3"), std::string::npos) << choice.reason;

  days = Recorded(1, {Table::kTrades, Table::kL3});
  const auto all = ChooseSizeSources(SizeEstimates::kHistory, TwoVenues(), tables, HistoryWindow(days));
  EXPECT_EQ(all.from_history.size(), 4u);
  EXPECT_NE(all.reason.find("the one recorded day (2026-01-11)"), std::string::npos) << all.reason;
}

TEST(SizeHistoryRecords, SerializeParseRoundTripAndRejectBadRecords) {
  const RecordedDay day = Day(kFirstMonday, {{Table::kTrades, {{1, 10}, {2, 0}}}, {Table::kL2, {{1, 7}}}});
  const std::string text = SerializeRecordedDay(day);
  auto parsed = ParseRecordedDay(text);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->day, kFirstMonday);
  EXPECT_EQ(parsed->rows, day.rows);
  EXPECT_FALSE(ParseRecordedDay(text.substr(0, text.size() / 2)));  // truncated
  EXPECT_FALSE(ParseRecordedDay(R"({"format": 999, "day": "2026-01-12", "tables": {}})"));
  EXPECT_FALSE(ParseRecordedDay(
      R"({"format": 1, "day": "2026-01-12", "tables": {"nope": {"listings": [], "rows": []}}})"));
  EXPECT_FALSE(ParseRecordedDay(
      R"({"format": 1, "day": "2026-01-12", "tables": {"trades": {"listings": [1], "rows": []}}})"));
  EXPECT_FALSE(ParseRecordedDay(
      R"({"format": 1, "day": "2026-01-12", "tables": {"trades": {"listings": [1], "rows": [-1]}}})"));
}

TEST(SizeHistoryRecords, AddListingRowsAlignsWithTheTaskListings) {
  RecordedDay day{kFirstMonday, {}};
  AddListingRows({3, 5}, {{Table::kTrades, {30, 0}}, {Table::kL3, {1, 2}}}, &day);
  AddListingRows({8}, {{Table::kTrades, {80}}}, &day);
  EXPECT_EQ(day.rows[Table::kTrades], (std::map<int64_t, int64_t>{{3, 30}, {5, 0}, {8, 80}}));
  EXPECT_EQ(day.rows[Table::kL3], (std::map<int64_t, int64_t>{{3, 1}, {5, 2}}));
}

TEST(SizeHistoryStore, RecordsMergeTablesAndLoadTheLatestDaysBefore) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/out/_size_history";
  auto history = SizeHistory::Open(dir, {}).ValueOrDie();
  std::vector<std::string> warnings;
  EXPECT_TRUE(history->LoadBefore(kFirstMonday, 14, &warnings).ValueOrDie().empty());  // no directory yet

  for (int i = 1; i <= 20; ++i) {
    ASSERT_TRUE(history->Record(Day(DaysBefore(kFirstMonday, i), {{Table::kTrades, {{1, i}}}})).ok());
  }
  // A second pass of the same day adds its table and keeps the other.
  ASSERT_TRUE(history->Record(Day(DaysBefore(kFirstMonday, 1), {{Table::kL3, {{1, 99}}}})).ok());
  // The day itself and later days are not history of the day.
  ASSERT_TRUE(history->Record(Day(kFirstMonday, {{Table::kTrades, {{1, 1000}}}})).ok());
  ASSERT_TRUE(history->Record(Day(kFirstMonday.next(), {{Table::kTrades, {{1, 1000}}}})).ok());
  // Nothing to record: no file.
  ASSERT_TRUE(history->Record(RecordedDay{DaysBefore(kFirstMonday, 30), {}}).ok());
  EXPECT_FALSE(std::filesystem::exists(history->PathOf(DaysBefore(kFirstMonday, 30))));

  const auto days = history->LoadBefore(kFirstMonday, kHistoryDays, &warnings).ValueOrDie();
  ASSERT_EQ(days.size(), kHistoryDays);
  EXPECT_EQ(days.front().day, DaysBefore(kFirstMonday, 1));
  EXPECT_EQ(days.back().day, DaysBefore(kFirstMonday, 14));
  EXPECT_EQ(days.front().rows.at(Table::kTrades).at(1), 1);
  EXPECT_EQ(days.front().rows.at(Table::kL3).at(1), 99);
  EXPECT_TRUE(warnings.empty());
  const HistoryWindow window(days);
  EXPECT_EQ(window.MedianRows(Table::kTrades, 1), 8);  // upper median of 1..14

  // A corrupt record is skipped with a warning; the window reaches one day further back.
  std::ofstream(history->PathOf(DaysBefore(kFirstMonday, 2))) << "{not json";
  // Temporary and foreign files in the directory are ignored.
  std::ofstream(dir + "/2026-01-09.json.tmp-1-0") << "x";
  std::ofstream(dir + "/notes.txt") << "x";
  const auto again = history->LoadBefore(kFirstMonday, kHistoryDays, &warnings).ValueOrDie();
  ASSERT_EQ(again.size(), kHistoryDays);
  EXPECT_EQ(again.back().day, DaysBefore(kFirstMonday, 15));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(history->PathOf(DaysBefore(kFirstMonday, 2))), std::string::npos) << warnings[0];
}

}  // namespace
}  // namespace intraday
