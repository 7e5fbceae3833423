// Planning one day of a later pass (generic, reaggregate): the universe with the columns the
// module groups by, the source pass's day file (and its history days), per-listing sizes from
// that file, and batches of whole groups in group-key order, so that the batches' sorted outputs
// concatenate into the day's sorted output (docs/multipass.md).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <arrow/table.h>

#include "common/date.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "io/lake.h"
#include "io/location.h"
#include "metrics/derived_module.h"
#include "plan/day_plan.h"

namespace intraday {

/// The path (or s3:// URI) of a pass's published day file: {output}/{pass}/date=D/part-00000.parquet.
std::string PassDayFile(const std::string& output, const std::string& pass, Date day);

/// The universe of `day` as a table for `module`: ListingId, then the module's universe columns
/// (standard columns, extra columns of universe.file, or columns of the module's attribute file),
/// one row per listing, sorted by ListingId. `listings`, when non-empty, narrows it.
Result<std::shared_ptr<arrow::Table>> DerivedUniverse(const Lake& lake, const PipelineConfig& config,
                                                      const DerivedModule& module, Date day,
                                                      const std::vector<int64_t>& listings,
                                                      std::vector<std::string>* warnings);

/// The trading days before `day` (same weekday calendar and holidays as the config, not bounded
/// by dates.start) whose source output exists in `output` (run.output), oldest first, at most
/// `count`; looks back at most 4 * count + 10 calendar days.
Result<std::vector<Date>> HistoryDays(const Location& output, const PipelineConfig& config,
                                      const std::string& source_pass, Date day, int count);

struct DerivedBatch {
  int id = 0;
  std::vector<int64_t> listings;     // whole groups, in group-key order
  std::vector<size_t> group_starts;  // where each group starts in `listings`
  int groups = 0;
  int64_t rows = 0;
  uint64_t memory_bytes = 0;
  bool oversize = false;
};

struct DerivedDayPlan {
  std::string pass;
  std::string source_pass;
  Date day;
  std::string source_file;    // the source pass's file of `day`
  std::vector<Date> history;  // history days read as well (oldest first)
  std::vector<std::string> history_files;
  int64_t listings = 0;
  int groups = 0;
  std::vector<DerivedBatch> batches;  // in group-key order
  uint64_t memory_budget = 0;
  std::shared_ptr<arrow::Schema> output_schema;
  std::vector<std::string> warnings;
};

/// Plans a day of a later pass. The source pass's file of the day must exist in run.output, local
/// or on S3 (an error naming it otherwise).
Result<DerivedDayPlan> PlanDerivedDay(const Lake& lake, const PipelineConfig& config, const PassConfig& pass,
                                      const DerivedModule& module, Date day);

}  // namespace intraday
