#include "plan/history_sizes.h"

#include <algorithm>

#include <fmt/format.h>

namespace intraday {
namespace {

// "the last 5 recorded days (2026-01-05 .. 2026-01-09)"
std::string WindowText(const HistoryWindow& history) {
  const auto& days = history.days();
  if (days.size() == 1) return fmt::format("the one recorded day ({})", days.front().ToString());
  return fmt::format("the last {} recorded days ({} .. {})", days.size(), days.back().ToString(),
                     days.front().ToString());
}

// The first (listing, table) of `listings` with fewer than `min_days` recorded days of a table.
struct Shortfall {
  int64_t listing = 0;
  Table table = Table::kTrades;
  int days = 0;
};
std::optional<Shortfall> FirstShortfall(const std::vector<const Listing*>& listings,
                                        std::span<const Table> tables, const HistoryWindow& history,
                                        int min_days) {
  for (const Listing* listing : listings) {
    for (Table table : tables) {
      const int days = history.DaysOf(table, listing->listing_id);
      if (days < min_days) return Shortfall{listing->listing_id, table, days};
    }
  }
  return std::nullopt;
}

}  // namespace

int64_t UpperMedian(std::vector<int64_t> values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

HistoryWindow::HistoryWindow(const std::vector<RecordedDay>& days) {
  for (const RecordedDay& day : days) {
    days_.push_back(day.day);
    for (const auto& [table, rows] : day.rows) {
      auto& per_listing = rows_[table];
      for (const auto& [listing, n] : rows) per_listing[listing].push_back(n);
    }
  }
  std::sort(days_.begin(), days_.end(), std::greater<>());
}

int HistoryWindow::DaysOf(Table table, int64_t listing) const {
  const auto t = rows_.find(table);
  if (t == rows_.end()) return 0;
  const auto l = t->second.find(listing);
  return l == t->second.end() ? 0 : static_cast<int>(l->second.size());
}

std::optional<int64_t> HistoryWindow::MedianRows(Table table, int64_t listing) const {
  const auto t = rows_.find(table);
  if (t == rows_.end()) return std::nullopt;
  const auto l = t->second.find(listing);
  if (l == t->second.end() || l->second.empty()) return std::nullopt;
  return UpperMedian(l->second);
}

SizeSourceChoice ChooseSizeSources(SizeEstimates mode, const Universe& universe,
                                   std::span<const Table> tables, const HistoryWindow& history,
                                   int auto_min_days) {
  SizeSourceChoice choice;
  if (mode == SizeEstimates::kScan) {
    choice.reason = "run.size_estimates is scan: sizes from the day's files";
    return choice;
  }
  if (history.days().empty()) {
    choice.reason =
        fmt::format("no size history before {}: sizes from the day's files", universe.day.ToString());
    return choice;
  }
  std::vector<const Listing*> everyone;
  for (const Listing& listing : universe.listings) everyone.push_back(&listing);

  if (mode == SizeEstimates::kAuto) {
    if (auto shortfall = FirstShortfall(everyone, tables, history, auto_min_days)) {
      choice.reason = fmt::format(
          "listing {} has {} recorded days of {} in {}, fewer than {}: sizes from the day's files",
          shortfall->listing, shortfall->days, SpecOf(shortfall->table).key, WindowText(history),
          auto_min_days);
      return choice;
    }
    for (Table table : tables) {
      for (const std::string& mic : universe.mics) choice.from_history.emplace(table, mic);
    }
    choice.reason = fmt::format("every listing has at least {} recorded days of every table: medians of {}",
                                auto_min_days, WindowText(history));
    return choice;
  }

  // history: file by file, so that listings new to the universe cost a scan of their own files only.
  std::optional<Shortfall> first;
  size_t files = 0;
  for (Table table : tables) {
    for (const std::string& mic : universe.mics) {
      ++files;
      std::vector<const Listing*> of_mic;
      for (const Listing* listing : everyone) {
        if (listing->mic == mic) of_mic.push_back(listing);
      }
      const Table one[] = {table};
      if (auto shortfall = FirstShortfall(of_mic, one, history, 1)) {
        if (!first) first = shortfall;
        continue;
      }
      choice.from_history.emplace(table, mic);
    }
  }
  if (!first) {
    choice.reason =
        fmt::format("every listing has recorded days of every table: medians of {}", WindowText(history));
  } else {
    choice.reason = fmt::format(
        "{} of {} (table, MIC) files sized from the medians of {}; the others from the day's files, "
        "since some of their listings have no recorded day (first: listing {}, {})",
        choice.from_history.size(), files, WindowText(history), first->listing, SpecOf(first->table).key);
  }
  return choice;
}

}  // namespace intraday
