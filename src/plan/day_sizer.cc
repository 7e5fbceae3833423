#include "plan/day_sizer.h"

#include <algorithm>

namespace intraday {

Result<std::unique_ptr<DaySizer>> DaySizer::Make(const Lake& lake, const PlanRequest& request,
                                                 const Universe& universe) {
  std::unique_ptr<SizeCache> cache;
  if (!request.size_cache_dir.empty()) {
    INTRADAY_ASSIGN_OR_RAISE(cache, SizeCache::Open(request.size_cache_dir, lake.options().s3));
  }
  std::unique_ptr<DaySizer> sizer(new DaySizer(lake, std::move(cache), universe));
  sizer->mode_ = request.config->run.size_estimates;
  if (sizer->mode_ != SizeEstimates::kScan && !request.size_history_dir.empty()) {
    auto history = SizeHistory::Open(request.size_history_dir, lake.options().s3);
    auto days = history.ok() ? (*history)->LoadBefore(request.day, kHistoryDays, &sizer->warnings_)
                             : Result<std::vector<RecordedDay>>(history.status());
    if (days.ok()) {
      sizer->history_ = HistoryWindow(*days);
    } else {
      sizer->warnings_.push_back("size history not read (sizes from the day's files): " +
                                 days.status().ToString());
    }
  }
  std::vector<Table> tables;
  for (const TableColumns& tc : request.columns) tables.push_back(tc.table);
  sizer->choice_ = ChooseSizeSources(sizer->mode_, universe, tables, sizer->history_);
  return sizer;
}

Result<DaySizer::Sized> DaySizer::Profile(const std::string& path, const std::string& display_path,
                                          Table table, const std::string& mic) {
  Sized out;
  if (!choice_.FromHistory(table, mic)) {
    INTRADAY_ASSIGN_OR_RAISE(out.profile, estimator_.Profile(path, display_path, table));
    out.source = SizeSource::kScan;
    return out;
  }
  // The footer gives rows, row groups (for the strategy) and bytes per row; the rows of each
  // listing are its median, never more than the whole file holds today.
  INTRADAY_ASSIGN_OR_RAISE(out.profile, ProfileFooter(lake_.fs(), path, display_path, table));
  for (const Listing& listing : universe_.listings) {
    if (listing.mic != mic) continue;
    const auto median = history_.MedianRows(table, listing.listing_id);
    if (median && *median > 0)
      out.profile.listing_rows[listing.listing_id] = std::min(*median, out.profile.rows);
  }
  out.profile.listings_known = true;
  out.profile.unknown_reason.clear();
  out.source = SizeSource::kHistory;
  ++files_from_history_;
  return out;
}

SizeEstimateSummary DaySizer::Summary() const {
  const SizeEstimatorStats& stats = estimator_.stats();
  SizeEstimateSummary summary;
  summary.mode = std::string(ToString(mode_));
  summary.reason = choice_.reason;
  summary.history_days = history_.days();
  summary.files_from_history = files_from_history_;
  summary.files_profiled = stats.profiled;
  summary.cache_hits = stats.cache_hits;
  summary.files_scanned = stats.scanned_files;
  summary.scanned_rows = stats.scanned_rows;
  if (choice_.from_history.empty()) {
    summary.source = "scan";
  } else {
    summary.source = stats.profiled == 0 ? "history" : "mixed";
  }
  return summary;
}

std::vector<std::string> DaySizer::warnings() const {
  std::vector<std::string> out = warnings_;
  out.insert(out.end(), estimator_.warnings().begin(), estimator_.warnings().end());
  return out;
}

}  // namespace intraday
