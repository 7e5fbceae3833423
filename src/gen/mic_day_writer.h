// The files of one (day, MIC): one Parquet file per table, written through Arrow's filesystem
// (local or S3) row group by row group as the simulators fill the row buffers, so that a large
// day never sits in memory. Decides row-group boundaries for both layouts:
//   time:    a row group every `row_group_rows` rows;
//   listing: complete small listings share a row group; a listing that reaches `row_group_rows`
//            gets row groups of its own (its tail included), so ListingId ranges never overlap.
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <arrow/record_batch.h>
#include <parquet/arrow/writer.h>

#include "common/date.h"
#include "common/status.h"
#include "gen/generate_options.h"
#include "gen/rows.h"
#include "gen/table_encoder.h"
#include "io/lake.h"

namespace intraday::gen {

/// Rows written per table (indexed by Table).
struct TableCounts {
  std::array<int64_t, 7> rows{};
  int64_t files = 0;

  int64_t& operator[](Table t) { return rows[static_cast<size_t>(t)]; }
  int64_t operator[](Table t) const { return rows[static_cast<size_t>(t)]; }
  TableCounts& operator+=(const TableCounts& other);
};

/// Writes one vendor Parquet file, one row group per WriteRowGroup call.
class ParquetFileSink {
 public:
  static Result<std::unique_ptr<ParquetFileSink>> Open(const FileSystemRoot& root, const std::string& path,
                                                       Table table);
  Status WriteRowGroup(const arrow::RecordBatch& batch);
  Status Close();

 private:
  ParquetFileSink() = default;
  std::string path_;
  std::shared_ptr<arrow::io::OutputStream> stream_;
  std::unique_ptr<parquet::arrow::FileWriter> writer_;
};

class MicDayWriter {
 public:
  /// `listings` are the MIC's listings in file order (the rows' `listing` indexes them).
  static Result<std::unique_ptr<MicDayWriter>> Open(const GenerateOptions& options,
                                                    const FileSystemRoot& root, Date day,
                                                    const VenueInfo& venue,
                                                    std::vector<const Listing*> listings);

  RowBuffers& buffers() { return buffers_; }
  /// Writes the row groups the buffers now complete; call after appending rows.
  Status Flush();
  /// Listing layout: the current listing has no more rows.
  Status EndListing();
  /// Writes what is left and the reference file, closes every file.
  Status Finish();
  const TableCounts& counts() const { return counts_; }

 private:
  // One table's file and the row-group state of its buffer.
  struct Stream {
    Table table;
    std::unique_ptr<ParquetFileSink> sink;  // null when the table is not written
    int64_t closed_rows = 0;                // listing layout: rows of complete listings
    bool spanning = false;                  // listing layout: the current listing has its own groups
  };

  MicDayWriter(const GenerateOptions& options, Date day, const VenueInfo& venue,
               std::vector<const Listing*> listings);
  int64_t BufferSize(Table table);
  void EraseFront(Table table, int64_t n);
  Result<std::shared_ptr<arrow::RecordBatch>> Encode(Table table, int64_t n);
  /// Writes the first n buffered rows of a table as one row group.
  Status WriteGroup(Stream& s, int64_t n);
  Status FlushStream(Stream& s);

  const GenerateOptions& options_;
  std::vector<const Listing*> listings_;
  EncodeContext ctx_;
  RowBuffers buffers_;
  std::vector<Stream> streams_;
  std::unique_ptr<ParquetFileSink> reference_;
  TableCounts counts_;
};

}  // namespace intraday::gen
