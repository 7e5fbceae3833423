// The size history: the rows each listing had in each table on the days earlier runs computed,
// so that a routine daily run can plan without reading any ListingId column (execution.md,
// "Estimates can also come from history"; docs/planning.md, "Sizes from history").
//
// One small JSON file per recorded day, {output}/_size_history/YYYY-MM-DD.json, holding per
// table the rows of every listing of that day's universe (zeros included: "no rows" is a
// recorded fact, not a missing one). The counts are what the workers actually read for the
// listings of their batches, so they are exact whatever the plan estimated, and they depend on
// the lake's files only: one record serves every pass and config over the same lake.
//
// A record is written whole (io/location.h: a temporary name and a rename on local disk, one
// upload on S3), so readers never see half of one. A
// day computed by several passes reading different tables accumulates their tables. Records are
// only ever estimates for planning: a missing, stale or corrupt one changes batching, never
// outputs, and the directory is safe to delete.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/filesystem/filesystem.h>

#include "common/date.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "io/lake.h"
#include "io/location.h"

namespace intraday {

/// Rows per listing of each table on one day.
struct RecordedDay {
  Date day;
  std::map<Table, std::map<int64_t, int64_t>> rows;  // table -> ListingId -> rows (>= 0)
};

/// Adds per-table rows aligned with `listings` (as a worker reports them) to `recorded`.
void AddListingRows(const std::vector<int64_t>& listings, const std::map<Table, std::vector<int64_t>>& rows,
                    RecordedDay* recorded);

/// Where plan and run keep the size history: {run.output}/_size_history (readers of the output
/// ignore '_' entries, and it outlives scratch).
std::string DefaultSizeHistoryDir(const PipelineConfig& config);

class SizeHistory {
 public:
  /// The history under `dir` (a local directory or s3:// URI; created on first record).
  static Result<std::unique_ptr<SizeHistory>> Open(const std::string& dir, const S3Settings& s3);

  /// Up to `max_days` recorded days strictly before `day`, latest first. A record that cannot be
  /// read or parsed is skipped with a warning: history is an estimate, never a reason to fail.
  Result<std::vector<RecordedDay>> LoadBefore(Date day, size_t max_days,
                                              std::vector<std::string>* warnings) const;

  /// Adds `recorded` to its day's record: its tables replace the ones recorded before, the others
  /// are kept; nothing is written without any table. (Two runs recording the same day at once may
  /// lose one's tables: only an estimate.)
  Status Record(const RecordedDay& recorded);

  /// The record file of a day (a local path or s3:// URI).
  std::string PathOf(Date day) const;

 private:
  explicit SizeHistory(Location location) : location_(std::move(location)) {}
  Result<std::optional<RecordedDay>> Load(Date day) const;

  Location location_;
};

/// The record format, exposed for tests. Bump kSizeHistoryFormat when its meaning changes: older
/// records then read as absent.
inline constexpr int kSizeHistoryFormat = 1;
std::string SerializeRecordedDay(const RecordedDay& recorded);
/// The record if `text` is a well-formed one (of the current format), else nullopt.
std::optional<RecordedDay> ParseRecordedDay(const std::string& text);

}  // namespace intraday
