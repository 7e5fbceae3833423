// A summary of one lake file read through the normal reader: row and row-group counts, the
// listings it holds, its event-time range, and a digest of every decoded value. Two reads of
// the same content (local disk, object store) give the same summary, which is what
// `intraday inspect` prints and what the storage tests compare.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <arrow/filesystem/filesystem.h>

#include "common/status.h"
#include "io/table_catalog.h"

namespace intraday {

struct FileSummary {
  int64_t rows = 0;
  int row_groups = 0;
  int columns = 0;
  int64_t listings = 0;                // distinct ListingId values
  int64_t first_event_ns = INT64_MAX;  // over non-null event times
  int64_t last_event_ns = INT64_MIN;
  uint64_t digest = 0;  // FNV-1a over the decoded values, column by column
};

Result<FileSummary> SummarizeTableFile(std::shared_ptr<arrow::fs::FileSystem> fs, const std::string& path,
                                       const std::string& display_path, Table table);

}  // namespace intraday
