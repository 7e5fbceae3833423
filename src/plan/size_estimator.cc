#include "plan/size_estimator.h"

#include <algorithm>
#include <cmath>

namespace intraday {

SizeEstimator::SizeEstimator(std::shared_ptr<arrow::fs::FileSystem> fs, std::unique_ptr<SizeCache> cache)
    : fs_(std::move(fs)), cache_(std::move(cache)) {}

Result<FileProfile> SizeEstimator::Profile(const std::string& path, const std::string& display_path,
                                           Table table) {
  std::optional<FileStamp> stamp;
  if (cache_ != nullptr) {
    auto stamped = StampOf(*fs_, path);
    if (!stamped.ok()) return stamped.status().WithMessage(display_path, ": ", stamped.status().message());
    stamp = *stamped;
    if (stamp) {
      if (auto cached = cache_->Load(*stamp); cached && cached->table == table) {
        ++stats_.profiled;
        ++stats_.cache_hits;
        return std::move(*cached);
      }
    }
  }
  INTRADAY_ASSIGN_OR_RAISE(FileProfile profile, ProfileFile(fs_, path, display_path, table));
  ++stats_.profiled;
  if (profile.scanned_rows > 0 || !profile.listings_known) ++stats_.scanned_files;
  stats_.scanned_rows += profile.scanned_rows;
  // Only complete profiles are cached: an unreadable file is looked at again next time.
  if (cache_ != nullptr && stamp && profile.listings_known) {
    auto stored = cache_->Store(*stamp, profile);
    if (stored.ok()) {
      ++stats_.cache_writes;
    } else if (warnings_.empty()) {
      warnings_.push_back("size cache not written (planning goes on without it): " + stored.ToString());
    }
  }
  return profile;
}

namespace {

// Decoded bytes of `rows` rows, rounded up to whole bytes.
uint64_t BytesOf(int64_t rows, double bytes_per_row) {
  return static_cast<uint64_t>(std::ceil(static_cast<double>(rows) * bytes_per_row));
}

}  // namespace

std::vector<ListingSize> EstimateListingSizes(const Universe& universe, std::span<const FileEstimate> files) {
  std::vector<ListingSize> sizes;
  sizes.reserve(universe.listings.size());
  // Per listing, the tables whose file could not be sized.
  std::vector<std::vector<size_t>> unknown_tables(universe.listings.size());
  std::array<int64_t, kTableCount> max_rows{};
  std::array<uint64_t, kTableCount> max_bytes{};
  for (size_t i = 0; i < universe.listings.size(); ++i) {
    const Listing& listing = universe.listings[i];
    ListingSize size;
    size.listing_id = listing.listing_id;
    size.instrument_id = listing.instrument_id;
    for (const FileEstimate& file : files) {
      if (file.mic != listing.mic) continue;
      const size_t t = TableIndex(file.table);
      size.source[t] = file.source;
      if (!file.profile->listings_known) {
        unknown_tables[i].push_back(t);
        continue;
      }
      auto it = file.profile->listing_rows.find(listing.listing_id);
      if (it == file.profile->listing_rows.end()) continue;
      size.rows[t] += it->second;
      size.bytes[t] += BytesOf(it->second, file.bytes_per_row);
      max_rows[t] = std::max(max_rows[t], size.rows[t]);
      max_bytes[t] = std::max(max_bytes[t], size.bytes[t]);
    }
    sizes.push_back(size);
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    ListingSize& size = sizes[i];
    for (size_t t : unknown_tables[i]) {
      size.estimated = false;
      size.rows[t] = max_rows[t];
      size.bytes[t] = max_bytes[t];
    }
    size.memory_bytes = WorkerMemoryOf(size.decoded_bytes());
  }
  return sizes;
}

namespace {
uint64_t BucketsOfDay(const PassConfig& pass) {
  constexpr int64_t kDayNs = int64_t{86'400} * 1'000'000'000;
  return static_cast<uint64_t>(kDayNs / std::max<int64_t>(1, pass.bucket_ns) + 1);
}

uint64_t RowsOf(const ListingSize& size) {
  uint64_t rows = 0;
  for (int64_t r : size.rows) rows += static_cast<uint64_t>(std::max<int64_t>(0, r));
  return rows;
}
}  // namespace

uint64_t OutputRowsBound(const PassConfig& pass, const ListingSize& size) {
  if (pass.timeline == Timeline::kDaily) return 1;
  if (pass.timeline == Timeline::kDense) return BucketsOfDay(pass);
  return std::min(BucketsOfDay(pass), RowsOf(size));
}

uint64_t OutputRowsBoundOfDay(const PassConfig& pass, const ListingSize& every_row, uint64_t listings) {
  if (pass.timeline == Timeline::kDaily) return listings;
  if (pass.timeline == Timeline::kDense) return BucketsOfDay(pass) * listings;
  return std::min(BucketsOfDay(pass) * listings, RowsOf(every_row));
}

void AddOutputMemory(const PassConfig& pass, uint64_t row_bytes, std::vector<ListingSize>* sizes) {
  for (ListingSize& size : *sizes) {
    size.output_bytes = OutputRowsBound(pass, size) * row_bytes;
    size.memory_bytes += size.output_bytes;
  }
}

}  // namespace intraday
