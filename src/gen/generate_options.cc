#include "gen/generate_options.h"

#include <algorithm>
#include <set>

#include "gen/venue.h"

namespace intraday::gen {

Result<Profile> ParseProfile(std::string_view name) {
  if (name == "tiny") return Profile::kTiny;
  if (name == "small") return Profile::kSmall;
  if (name == "medium") return Profile::kMedium;
  if (name == "large") return Profile::kLarge;
  return Status::Invalid("unknown profile '", name, "': expected tiny, small, medium or large");
}

std::string_view ProfileName(Profile profile) {
  switch (profile) {
    case Profile::kTiny: return "tiny";
    case Profile::kSmall: return "small";
    case Profile::kMedium: return "medium";
    case Profile::kLarge: return "large";
  }
  return "?";
}

int64_t ProfileMeanEvents(Profile profile) {
  switch (profile) {
    case Profile::kTiny: return 300;
    case Profile::kSmall: return 3'000;
    case Profile::kMedium: return 30'000;
    case Profile::kLarge: return 300'000;
  }
  return 3'000;
}

Result<Layout> ParseLayout(std::string_view name) {
  if (name == "time") return Layout::kTime;
  if (name == "listing") return Layout::kListing;
  return Status::Invalid("unknown layout '", name, "': expected time or listing");
}

std::string_view LayoutName(Layout layout) { return layout == Layout::kTime ? "time" : "listing"; }

Status GenerateOptions::Validate() const {
  if (out.empty()) return Status::Invalid("no output location (--out)");
  if (listings < 1 || listings > 200'000) return Status::Invalid("--listings must be in [1, 200000]");
  if (days.empty()) return Status::Invalid("the date range holds no weekday");
  if (mics.empty()) return Status::Invalid("no MIC (--mics)");
  std::set<std::string> seen;
  for (const auto& mic : mics) {
    INTRADAY_RETURN_NOT_OK(FindVenue(mic).status());
    if (!seen.insert(mic).second) return Status::Invalid("MIC ", mic, " is listed twice");
  }
  if (row_group_rows < 1) return Status::Invalid("the row-group size must be positive");
  if (threads < 0) return Status::Invalid("--threads must be >= 0");
  if (mean_events < 0) return Status::Invalid("--events must be >= 0");
  if (tables.empty()) return Status::Invalid("no table to write (--tables)");
  for (size_t i = 1; i < days.size(); ++i) {
    if (!(days[i - 1] < days[i])) return Status::Invalid("days must be ascending and distinct");
  }
  return Status::OK();
}

std::vector<Date> WeekdaysFrom(Date start, int count) {
  std::vector<Date> days;
  for (Date d = start; static_cast<int>(days.size()) < count; d = d.next()) {
    if (!d.is_weekend()) days.push_back(d);
  }
  return days;
}

Result<std::vector<Date>> WeekdaysBetween(Date start, Date end) {
  if (end < start) return Status::Invalid("end date ", end.ToString(), " is before start ", start.ToString());
  std::vector<Date> days;
  for (Date d = start; d <= end; d = d.next()) {
    if (!d.is_weekend()) days.push_back(d);
  }
  return days;
}

Result<std::vector<Table>> ParseTables(std::string_view list) {
  std::vector<Table> tables;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    const std::string_view key = list.substr(pos, comma - pos);
    if (!key.empty()) {
      INTRADAY_ASSIGN_OR_RAISE(Table table, TableFromKey(key));
      if (std::find(tables.begin(), tables.end(), table) == tables.end()) tables.push_back(table);
    }
    pos = comma + 1;
  }
  if (tables.empty()) return Status::Invalid("no table in '", list, "'");
  return tables;
}

}  // namespace intraday::gen
