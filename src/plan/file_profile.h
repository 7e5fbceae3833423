// The profile of one input file: its rows, the ListingId range of each row group, the exact rows
// of every ListingId it holds, and the decoded bytes per row of each of its columns. A profile
// depends on the file alone (not on the pass, the universe or the config), so it can be cached
// per file (size_cache.h) and shared by every pass that reads the file.
//
// How it is computed, cheapest first:
//   - the footer gives rows, row groups, ListingId min/max/null-count statistics and column-chunk
//     sizes; a row group whose ListingId min == max (one listing) gives that listing's rows
//     without reading any data;
//   - the other row groups (several listings, or no statistics) are scanned, reading the
//     ListingId column alone (TableFileReader with one column), and counted.
// Both paths are exact: rows with a null ListingId belong to no listing and are not counted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <arrow/filesystem/filesystem.h>

#include "common/status.h"
#include "io/table_catalog.h"
#include "plan/day_plan.h"

namespace intraday {

struct FileProfile {
  Table table = Table::kTrades;
  int64_t rows = 0;
  int num_row_groups = 0;
  /// ListingId [min, max] of the row groups that hold rows and have statistics, in file order.
  std::vector<InputFile::RowGroupRange> row_groups;
  /// Decoded bytes per row of every column of the file, by column name (see DecodedBytesPerRow
  /// in file_profile.cc for the rules; fixed-width columns include their validity bit).
  std::map<std::string, double> bytes_per_row;
  /// Exact rows per ListingId, valid when listings_known.
  std::map<int64_t, int64_t> listing_rows;
  /// False when the footer was readable but the ListingId column could not be decoded: the
  /// file's listings then have no estimate (never zero). unknown_reason says why.
  bool listings_known = true;
  std::string unknown_reason;
  /// Rows whose ListingId was counted by scanning rather than from statistics (0 = no scan).
  int64_t scanned_rows = 0;
};

/// Profiles `path` (inside `fs`; `display_path` names it in errors). A file that cannot be opened,
/// is not Parquet, or has no integer ListingId column is an error naming the file (and column).
Result<FileProfile> ProfileFile(const std::shared_ptr<arrow::fs::FileSystem>& fs, const std::string& path,
                                const std::string& display_path, Table table);

/// The footer's part of a profile, reading no data page: rows, row groups with their ListingId
/// ranges, bytes per row. Rows per listing are left to the caller (sizes from history):
/// listing_rows is empty and listings_known false. Errors as ProfileFile's.
Result<FileProfile> ProfileFooter(const std::shared_ptr<arrow::fs::FileSystem>& fs, const std::string& path,
                                  const std::string& display_path, Table table);

/// Whether the file's row groups follow one another in time: each one's first event time (its
/// statistics' minimum) no earlier than the one before's last. False where a row group lacks
/// the statistics. Time slices of a day pay only then (docs/planning.md, "A day in time slices").
Result<bool> RowGroupsInTimeOrder(const std::shared_ptr<arrow::fs::FileSystem>& fs, const std::string& path,
                                  const std::string& display_path, Table table);

/// Decoded bytes per row of a projection of the file: the sum over `columns` of
/// profile.bytes_per_row. The derived trades column LocalPrice counts as one float64 when the
/// file does not hold it. A column the file lacks is an error naming the file and the column.
Result<double> ProjectedBytesPerRow(const FileProfile& profile, const std::vector<std::string>& columns,
                                    const std::string& display_path);

}  // namespace intraday
