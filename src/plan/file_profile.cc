#include "plan/file_profile.h"

#include <algorithm>
#include <climits>
#include <exception>
#include <map>
#include <optional>
#include <vector>

#include <arrow/array.h>
#include <parquet/size_statistics.h>
#include <parquet/statistics.h>

#include "io/table_reader.h"
#include "plan/parquet_footer.h"

namespace intraday {
namespace {

constexpr std::string_view kListingId = "ListingId";
constexpr double kValidityBytes = 1.0 / 8;  // one validity bit per value
constexpr double kOffsetBytes = 4;          // int32 offset per string value
// Rows per batch when scanning the ListingId column: 2 MiB of int64, bounded whatever the file.
constexpr int64_t kScanBatchRows = 256 * 1024;

// Bytes of one decoded value of a fixed-width column, or nullopt for a variable-width one. The
// decoded type is the catalogue's when it knows the column (the reader converts to it: an int32
// ListingId is read as int64), else the natural Arrow type of the Parquet physical type.
std::optional<double> FixedWidth(Table table, const parquet::ColumnDescriptor& column) {
  if (auto kind = KnownColumnKind(table, column.name())) {
    switch (*kind) {
      case ColumnKind::kInt64:
      case ColumnKind::kFloat64:
      case ColumnKind::kTimestamp: return 8.0;
      case ColumnKind::kInt32: return 4.0;
      case ColumnKind::kBool: return 1.0 / 8;
      case ColumnKind::kString:
        if (column.physical_type() == parquet::Type::BYTE_ARRAY) return std::nullopt;
        break;  // a string column stored as numbers: estimated as its text below
    }
  }
  switch (column.physical_type()) {
    case parquet::Type::BOOLEAN: return 1.0 / 8;
    case parquet::Type::INT32:
    case parquet::Type::FLOAT: return 4.0;
    case parquet::Type::INT64:
    case parquet::Type::DOUBLE:
    case parquet::Type::INT96: return 8.0;  // INT96 timestamps are read as timestamp[ns]
    case parquet::Type::FIXED_LEN_BYTE_ARRAY: return static_cast<double>(column.type_length());
    default: return std::nullopt;
  }
}

// Unencoded string bytes of one column chunk. Exact when the writer recorded size statistics
// (Arrow and pyarrow do by default). Otherwise estimated from the chunk's uncompressed size,
// which is close for PLAIN pages (length prefix + bytes) but far too small for dictionary pages
// (small indices), so for those it is at least the number of values times the mean length of the
// min and max statistics. Errs high rather than low: an underestimate is what runs out of memory.
int64_t StringDataBytes(const parquet::ColumnChunkMetaData& chunk) {
  if (auto size_stats = chunk.size_statistics();
      size_stats != nullptr && size_stats->unencoded_byte_array_data_bytes.has_value()) {
    return *size_stats->unencoded_byte_array_data_bytes;
  }
  int64_t bytes = chunk.total_uncompressed_size();
  if (chunk.has_dictionary_page() && chunk.is_stats_set()) {
    auto stats = chunk.statistics();
    if (stats != nullptr && stats->HasMinMax()) {
      const auto mean_length =
          static_cast<int64_t>((stats->EncodeMin().size() + stats->EncodeMax().size() + 1) / 2);
      bytes = std::max(bytes, chunk.num_values() * mean_length);
    }
  }
  return bytes;
}

// Decoded bytes per row of every column: fixed-width columns their width plus a validity bit;
// strings an int32 offset, a validity bit, and their data bytes averaged over the file's rows.
std::map<std::string, double> DecodedBytesPerRow(const parquet::FileMetaData& metadata, Table table) {
  std::map<std::string, double> out;
  const parquet::SchemaDescriptor& schema = *metadata.schema();
  for (int c = 0; c < schema.num_columns(); ++c) {
    const parquet::ColumnDescriptor& column = *schema.Column(c);
    const std::string name = column.path()->ToDotString();
    if (auto width = FixedWidth(table, column)) {
      out[name] = *width + kValidityBytes;
      continue;
    }
    int64_t data_bytes = 0;
    for (int rg = 0; rg < metadata.num_row_groups(); ++rg) {
      data_bytes += StringDataBytes(*metadata.RowGroup(rg)->ColumnChunk(c));
    }
    const double per_row = metadata.num_rows() > 0
                               ? static_cast<double>(data_bytes) / static_cast<double>(metadata.num_rows())
                               : 0.0;
    out[name] = kOffsetBytes + kValidityBytes + per_row;
  }
  return out;
}

struct ListingStats {
  std::optional<InputFile::RowGroupRange> range;
  std::optional<int64_t> null_count;
};

// The ListingId min/max (and null count) of one row group from its column-chunk statistics.
ListingStats ListingStatsOf(const parquet::RowGroupMetaData& row_group, int index, int column) {
  ListingStats out;
  auto chunk = row_group.ColumnChunk(column);
  if (!chunk->is_stats_set()) return out;
  auto stats = chunk->statistics();
  if (stats == nullptr) return out;
  if (stats->HasNullCount()) out.null_count = stats->null_count();
  if (!stats->HasMinMax()) return out;
  int64_t min = 0, max = 0;
  if (auto s64 = std::dynamic_pointer_cast<parquet::Int64Statistics>(stats)) {
    min = s64->min();
    max = s64->max();
  } else if (auto s32 = std::dynamic_pointer_cast<parquet::Int32Statistics>(stats)) {
    min = s32->min();
    max = s32->max();
  } else {
    return out;
  }
  out.range = InputFile::RowGroupRange{index, min, max, row_group.num_rows()};
  return out;
}

// Adds each id's rows to `rows`. Ids counted in a dense array over the batch's id range when it
// is small against the batch (a venue's ListingIds are usually close together, and files in time
// order interleave them row by row), else run by run (files clustered by listing).
void CountIds(const arrow::Int64Array& ids, std::vector<int64_t>* counts, std::map<int64_t, int64_t>* rows) {
  const int64_t n = ids.length();
  const int64_t max_dense_range = std::max<int64_t>(4096, 4 * n);
  const int64_t* values = ids.raw_values();
  int64_t min = INT64_MAX, max = INT64_MIN;
  for (int64_t i = 0; i < n; ++i) {
    if (ids.IsValid(i)) {
      min = std::min(min, values[i]);
      max = std::max(max, values[i]);
    }
  }
  if (min > max) return;
  if (max - min < max_dense_range) {
    counts->assign(static_cast<size_t>(max - min + 1), 0);
    const bool nulls = ids.null_count() != 0;
    for (int64_t i = 0; i < n; ++i) {
      if (!nulls || ids.IsValid(i)) ++(*counts)[static_cast<size_t>(values[i] - min)];
    }
    for (size_t k = 0; k < counts->size(); ++k) {
      if ((*counts)[k] != 0) (*rows)[min + static_cast<int64_t>(k)] += (*counts)[k];
    }
    return;
  }
  int64_t run_id = 0, run_rows = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (ids.IsNull(i)) continue;
    if (run_rows > 0 && values[i] != run_id) {
      (*rows)[run_id] += run_rows;
      run_rows = 0;
    }
    run_id = values[i];
    ++run_rows;
  }
  if (run_rows > 0) (*rows)[run_id] += run_rows;
}

// Counts ListingIds in the given row groups, reading that column alone.
Status ScanListingIds(const std::shared_ptr<arrow::fs::FileSystem>& fs, const std::string& path,
                      const std::string& display_path, Table table, std::vector<int> row_groups,
                      FileProfile* profile) {
  TableReadOptions options;
  options.columns = {std::string(kListingId)};
  options.row_groups = std::move(row_groups);
  options.batch_rows = kScanBatchRows;
  INTRADAY_ASSIGN_OR_RAISE(auto reader,
                           TableFileReader::Open(fs, path, display_path, table, std::move(options)));
  std::vector<int64_t> counts;
  while (true) {
    auto next = reader->Next();
    if (!next.ok()) {
      // The footer was fine but the data is not: the listings of this file cannot be sized.
      profile->listings_known = false;
      profile->unknown_reason = next.status().message();
      profile->listing_rows.clear();
      return Status::OK();
    }
    const std::shared_ptr<arrow::RecordBatch>& batch = *next;
    if (batch == nullptr) break;
    const auto& ids = static_cast<const arrow::Int64Array&>(*batch->column(0));
    profile->scanned_rows += ids.length();
    CountIds(ids, &counts, &profile->listing_rows);
  }
  return Status::OK();
}

// The footer's part of a profile: rows, row groups and their ListingId ranges, bytes per row, and
// the rows of single-listing row groups. The row groups whose rows per listing need a scan of the
// ListingId column go to `to_scan`.
Result<FileProfile> FooterProfile(const parquet::FileMetaData& metadata, const std::string& display_path,
                                  Table table, std::vector<int>* to_scan) {
  FileProfile profile;
  profile.table = table;
  try {
    profile.rows = metadata.num_rows();
    profile.num_row_groups = metadata.num_row_groups();
    const int column = metadata.schema()->ColumnIndex(std::string(kListingId));
    if (column < 0) {
      return Status::Invalid(display_path, ": no column '", kListingId, "' (table ", SpecOf(table).key,
                             ") in this file");
    }
    const auto physical = metadata.schema()->Column(column)->physical_type();
    if (physical != parquet::Type::INT64 && physical != parquet::Type::INT32) {
      return Status::TypeError(display_path, ": column '", kListingId, "' has Parquet type ",
                               parquet::TypeToString(physical), ", expected int64");
    }
    for (int rg = 0; rg < profile.num_row_groups; ++rg) {
      auto row_group = metadata.RowGroup(rg);
      const int64_t rows = row_group->num_rows();
      if (rows == 0) continue;
      const ListingStats stats = ListingStatsOf(*row_group, rg, column);
      if (stats.range) profile.row_groups.push_back(*stats.range);
      if (stats.range && stats.range->min_listing == stats.range->max_listing && stats.null_count) {
        // One listing: its rows are the row group's non-null ListingIds, no scan needed.
        if (rows > *stats.null_count)
          profile.listing_rows[stats.range->min_listing] += rows - *stats.null_count;
      } else {
        to_scan->push_back(rg);
      }
    }
    profile.bytes_per_row = DecodedBytesPerRow(metadata, table);
  } catch (const std::exception& e) {
    return Status::IOError(display_path, ": unreadable Parquet metadata: ", e.what());
  }
  return profile;
}

}  // namespace

Result<FileProfile> ProfileFile(const std::shared_ptr<arrow::fs::FileSystem>& fs, const std::string& path,
                                const std::string& display_path, Table table) {
  INTRADAY_ASSIGN_OR_RAISE(auto metadata, ReadParquetFooter(fs, path, display_path));
  std::vector<int> to_scan;
  INTRADAY_ASSIGN_OR_RAISE(FileProfile profile, FooterProfile(*metadata, display_path, table, &to_scan));
  if (!to_scan.empty()) {
    INTRADAY_RETURN_NOT_OK(ScanListingIds(fs, path, display_path, table, std::move(to_scan), &profile));
  }
  return profile;
}

Result<FileProfile> ProfileFooter(const std::shared_ptr<arrow::fs::FileSystem>& fs, const std::string& path,
                                  const std::string& display_path, Table table) {
  INTRADAY_ASSIGN_OR_RAISE(auto metadata, ReadParquetFooter(fs, path, display_path));
  std::vector<int> to_scan;
  INTRADAY_ASSIGN_OR_RAISE(FileProfile profile, FooterProfile(*metadata, display_path, table, &to_scan));
  profile.listing_rows.clear();
  profile.listings_known = false;
  profile.unknown_reason = "rows per listing not counted (footer only)";
  return profile;
}

Result<bool> RowGroupsInTimeOrder(const std::shared_ptr<arrow::fs::FileSystem>& fs, const std::string& path,
                                  const std::string& display_path, Table table) {
  INTRADAY_ASSIGN_OR_RAISE(auto metadata, ReadParquetFooter(fs, path, display_path));
  const int column = metadata->schema()->ColumnIndex(std::string(SpecOf(table).event_time_column));
  if (column < 0) return false;
  int64_t previous_max = INT64_MIN;
  for (int g = 0; g < metadata->num_row_groups(); ++g) {
    const auto row_group = metadata->RowGroup(g);
    if (row_group->num_rows() == 0) continue;
    const auto chunk = row_group->ColumnChunk(column);
    const auto stats = chunk->is_stats_set()
                           ? std::dynamic_pointer_cast<parquet::Int64Statistics>(chunk->statistics())
                           : nullptr;
    if (stats == nullptr || !stats->HasMinMax() || stats->min() < previous_max) return false;
    previous_max = stats->max();
  }
  return true;
}

Result<double> ProjectedBytesPerRow(const FileProfile& profile, const std::vector<std::string>& columns,
                                    const std::string& display_path) {
  double total = 0;
  for (const auto& name : columns) {
    auto it = profile.bytes_per_row.find(name);
    if (it != profile.bytes_per_row.end()) {
      total += it->second;
    } else if (name == kLocalPriceColumn && profile.table == Table::kTrades) {
      total += 8 + kValidityBytes;  // derived by the reader as float64
    } else {
      return Status::Invalid(display_path, ": no column '", name, "' (table ", SpecOf(profile.table).key,
                             ") in this file");
    }
  }
  return total;
}

}  // namespace intraday
