// Sizing the input files of one day, from the files themselves or from history, as
// run.size_estimates says (docs/planning.md): the planner asks for each located file's profile
// and gets either the exact one (SizeEstimator: statistics, the size cache, a ListingId scan) or
// one whose rows per listing are the medians of the recorded days, with everything else (rows,
// row groups, bytes per row) from the file's footer alone.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "io/lake.h"
#include "plan/day_plan.h"
#include "plan/file_profile.h"
#include "plan/history_sizes.h"
#include "plan/planner.h"
#include "plan/size_estimator.h"

namespace intraday {

class DaySizer {
 public:
  /// Opens the request's size cache and, unless the mode is scan, loads the size history before
  /// the day and chooses which files it sizes. A history that cannot be read is a warning, and
  /// the day is sized from its files.
  static Result<std::unique_ptr<DaySizer>> Make(const Lake& lake, const PlanRequest& request,
                                                const Universe& universe);

  struct Sized {
    FileProfile profile;
    SizeSource source = SizeSource::kScan;
  };
  /// The profile of a located file of (table, mic).
  Result<Sized> Profile(const std::string& path, const std::string& display_path, Table table,
                        const std::string& mic);

  /// What was chosen and what it cost, once every file is profiled.
  SizeEstimateSummary Summary() const;
  std::vector<std::string> warnings() const;

 private:
  DaySizer(const Lake& lake, std::unique_ptr<SizeCache> cache, const Universe& universe)
      : lake_(lake), estimator_(lake.fs(), std::move(cache)), universe_(universe) {}

  const Lake& lake_;
  SizeEstimator estimator_;
  Universe universe_;
  SizeEstimates mode_ = SizeEstimates::kScan;
  HistoryWindow history_;
  SizeSourceChoice choice_;
  int files_from_history_ = 0;
  std::vector<std::string> warnings_;
};

}  // namespace intraday
