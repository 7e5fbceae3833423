#include "plan/size_cache.h"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace intraday {
namespace {

uint64_t Fnv1a64(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace

Result<std::optional<FileStamp>> StampOf(arrow::fs::FileSystem& fs, const std::string& path) {
  INTRADAY_ASSIGN_OR_RAISE(auto info, fs.GetFileInfo(path));
  if (info.type() != arrow::fs::FileType::File || info.mtime() == arrow::fs::kNoTime) {
    return std::optional<FileStamp>();
  }
  const auto mtime_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(info.mtime().time_since_epoch()).count();
  return std::optional<FileStamp>(FileStamp{path, info.size(), static_cast<int64_t>(mtime_ns)});
}

std::string SerializeProfile(const FileStamp& stamp, const FileProfile& profile) {
  nlohmann::json row_groups = nlohmann::json::array();
  for (const auto& rg : profile.row_groups)
    row_groups.push_back({rg.index, rg.min_listing, rg.max_listing, rg.rows});
  nlohmann::json listings = nlohmann::json::array();
  for (const auto& [id, rows] : profile.listing_rows) listings.push_back({id, rows});
  nlohmann::json bytes = nlohmann::json::object();
  for (const auto& [name, value] : profile.bytes_per_row) bytes[name] = value;
  const nlohmann::json entry = {
      {"format", kSizeCacheFormat},
      {"path", stamp.path},
      {"size", stamp.size},
      {"mtime_ns", stamp.mtime_ns},
      {"table", std::string(SpecOf(profile.table).key)},
      {"rows", profile.rows},
      {"num_row_groups", profile.num_row_groups},
      {"row_groups", std::move(row_groups)},
      {"bytes_per_row", std::move(bytes)},
      {"listings", std::move(listings)},
  };
  return entry.dump() + "\n";
}

std::optional<FileProfile> ParseProfile(const std::string& text, const FileStamp& stamp) {
  const nlohmann::json entry = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (entry.is_discarded() || !entry.is_object()) return std::nullopt;
  try {
    if (entry.at("format").get<int>() != kSizeCacheFormat ||
        entry.at("path").get<std::string>() != stamp.path || entry.at("size").get<int64_t>() != stamp.size ||
        entry.at("mtime_ns").get<int64_t>() != stamp.mtime_ns) {
      return std::nullopt;
    }
    auto table = TableFromKey(entry.at("table").get<std::string>());
    if (!table.ok()) return std::nullopt;
    FileProfile profile;
    profile.table = *table;
    profile.rows = entry.at("rows").get<int64_t>();
    profile.num_row_groups = entry.at("num_row_groups").get<int>();
    for (const auto& rg : entry.at("row_groups")) {
      profile.row_groups.push_back(InputFile::RowGroupRange{
          rg.at(0).get<int>(), rg.at(1).get<int64_t>(), rg.at(2).get<int64_t>(), rg.at(3).get<int64_t>()});
    }
    for (const auto& [name, value] : entry.at("bytes_per_row").items()) {
      profile.bytes_per_row[name] = value.get<double>();
    }
    int64_t counted = 0;
    for (const auto& item : entry.at("listings")) {
      const int64_t rows = item.at(1).get<int64_t>();
      if (rows <= 0) return std::nullopt;
      profile.listing_rows[item.at(0).get<int64_t>()] = rows;
      counted += rows;
    }
    // A cheap consistency check against truncated or hand-edited entries.
    if (profile.rows < 0 || counted > profile.rows || profile.bytes_per_row.empty()) return std::nullopt;
    return profile;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

Result<std::unique_ptr<SizeCache>> SizeCache::Open(const std::string& dir, const S3Settings& s3) {
  INTRADAY_ASSIGN_OR_RAISE(auto location, Location::Open(dir, s3));
  return std::unique_ptr<SizeCache>(new SizeCache(std::move(location)));
}

std::string SizeCache::EntryPath(const std::string& input_path) const {
  return location_.Join(fmt::format("{:016x}.json", Fnv1a64(input_path)));
}

std::optional<FileProfile> SizeCache::Load(const FileStamp& stamp) const {
  auto text = location_.ReadText(EntryPath(stamp.path));
  if (!text.ok()) return std::nullopt;
  return ParseProfile(*text, stamp);
}

Status SizeCache::Store(const FileStamp& stamp, const FileProfile& profile) {
  if (!dir_created_) {
    INTRADAY_RETURN_NOT_OK(location_.CreateDirs(location_.root()));
    dir_created_ = true;
  }
  return location_.WriteText(EntryPath(stamp.path), SerializeProfile(stamp, profile));
}

}  // namespace intraday
