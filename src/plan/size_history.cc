#include "plan/size_history.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace intraday {
namespace {

constexpr std::string_view kRecordSuffix = ".json";

// The day a record file is named after ("2026-01-05.json"), or nullopt for any other entry
// (temporary files included).
std::optional<Date> DayOfRecordName(std::string_view name) {
  if (!name.ends_with(kRecordSuffix)) return std::nullopt;
  name.remove_suffix(kRecordSuffix.size());
  auto day = Date::Parse(name);
  if (!day.ok()) return std::nullopt;
  return *day;
}

}  // namespace

void AddListingRows(const std::vector<int64_t>& listings, const std::map<Table, std::vector<int64_t>>& rows,
                    RecordedDay* recorded) {
  for (const auto& [table, counts] : rows) {
    auto& out = recorded->rows[table];
    for (size_t i = 0; i < counts.size() && i < listings.size(); ++i) out[listings[i]] = counts[i];
  }
}

std::string DefaultSizeHistoryDir(const PipelineConfig& config) {
  return config.run.output + "/_size_history";
}

std::string SerializeRecordedDay(const RecordedDay& recorded) {
  nlohmann::ordered_json tables = nlohmann::ordered_json::object();
  for (const auto& [table, rows] : recorded.rows) {
    std::vector<int64_t> listings, counts;
    for (const auto& [listing, n] : rows) {
      listings.push_back(listing);
      counts.push_back(n);
    }
    tables[std::string(SpecOf(table).key)] = {{"listings", listings}, {"rows", counts}};
  }
  const nlohmann::ordered_json entry = {
      {"format", kSizeHistoryFormat}, {"day", recorded.day.ToString()}, {"tables", std::move(tables)}};
  return entry.dump() + "\n";
}

std::optional<RecordedDay> ParseRecordedDay(const std::string& text) {
  const nlohmann::json entry = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (entry.is_discarded() || !entry.is_object()) return std::nullopt;
  try {
    if (entry.at("format").get<int>() != kSizeHistoryFormat) return std::nullopt;
    auto day = Date::Parse(entry.at("day").get<std::string>());
    if (!day.ok()) return std::nullopt;
    RecordedDay recorded;
    recorded.day = *day;
    for (const auto& [key, value] : entry.at("tables").items()) {
      auto table = TableFromKey(key);
      if (!table.ok()) return std::nullopt;
      const auto listings = value.at("listings").get<std::vector<int64_t>>();
      const auto rows = value.at("rows").get<std::vector<int64_t>>();
      if (listings.size() != rows.size()) return std::nullopt;
      auto& out = recorded.rows[*table];
      for (size_t i = 0; i < listings.size(); ++i) {
        if (rows[i] < 0) return std::nullopt;
        out[listings[i]] = rows[i];
      }
    }
    return recorded;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

Result<std::unique_ptr<SizeHistory>> SizeHistory::Open(const std::string& dir, const S3Settings& s3) {
  INTRADAY_ASSIGN_OR_RAISE(auto location, Location::Open(dir, s3));
  return std::unique_ptr<SizeHistory>(new SizeHistory(std::move(location)));
}

std::string SizeHistory::PathOf(Date day) const {
  return location_.Join(fmt::format("{}{}", day.ToString(), kRecordSuffix));
}

Result<std::optional<RecordedDay>> SizeHistory::Load(Date day) const {
  INTRADAY_ASSIGN_OR_RAISE(auto text, location_.ReadText(PathOf(day)));
  auto recorded = ParseRecordedDay(text);
  // A record must describe the day it is named after (a copied or renamed file is ignored).
  if (recorded && recorded->day != day) return std::optional<RecordedDay>();
  return recorded;
}

Result<std::vector<RecordedDay>> SizeHistory::LoadBefore(Date day, size_t max_days,
                                                         std::vector<std::string>* warnings) const {
  arrow::fs::FileSelector selector;
  INTRADAY_ASSIGN_OR_RAISE(selector.base_dir, location_.PathOf(location_.root()));
  selector.allow_not_found = true;
  INTRADAY_ASSIGN_OR_RAISE(auto entries, location_.fs()->GetFileInfo(selector));
  std::vector<Date> days;
  for (const auto& info : entries) {
    if (info.type() != arrow::fs::FileType::File) continue;
    if (auto recorded = DayOfRecordName(info.base_name()); recorded && *recorded < day)
      days.push_back(*recorded);
  }
  std::sort(days.begin(), days.end(), std::greater<>());
  std::vector<RecordedDay> out;
  for (Date d : days) {
    if (out.size() >= max_days) break;
    auto loaded = Load(d);
    if (loaded.ok() && loaded->has_value()) {
      out.push_back(std::move(**loaded));
    } else if (warnings != nullptr) {
      warnings->push_back(fmt::format("size history record {} ignored: {}", PathOf(d),
                                      loaded.ok() ? "not a valid record" : loaded.status().message()));
    }
  }
  return out;
}

Status SizeHistory::Record(const RecordedDay& recorded) {
  if (recorded.rows.empty()) return Status::OK();  // a day without listings teaches nothing
  RecordedDay merged = recorded;
  if (auto before = Load(recorded.day); before.ok() && before->has_value()) {
    for (auto& [table, rows] : (*before)->rows) merged.rows.emplace(table, std::move(rows));
  }
  INTRADAY_RETURN_NOT_OK(location_.CreateDirs(location_.root()));
  const std::string path = PathOf(recorded.day);
  const Status written = location_.WriteText(path, SerializeRecordedDay(merged));
  return written.ok() ? written : written.WithMessage("cannot write ", path, ": ", written.message());
}

}  // namespace intraday
