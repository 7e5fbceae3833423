// A sliced day's output rows (exec/sliced_day.h) between its slices: each slice's rows of a chunk
// of listings, in a scratch file of their own (or in memory where scratch is not local), merged
// listing by listing once the last slice is computed. A worker then holds a piece of the output
// at a time, not every listing's rows of the day (docs/engine.md, "A day in time slices").
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <arrow/io/file.h>
#include <arrow/record_batch.h>

#include "common/status.h"
#include "metrics/module.h"

namespace intraday {

class SliceOutputs {
 public:
  /// `dir`: a local directory for the files (created here, removed by the destructor with what
  /// is left in it), or empty: the rows stay in memory.
  static Result<std::unique_ptr<SliceOutputs>> Open(std::string dir, std::shared_ptr<arrow::Schema> schema,
                                                    size_t chunks);
  ~SliceOutputs();
  SliceOutputs(const SliceOutputs&) = delete;
  SliceOutputs& operator=(const SliceOutputs&) = delete;

  /// A listing's rows of the next slice, in chunk `chunk`: its labels and one block per module,
  /// as the modules computed them. They are written to the chunk's file as they are (values,
  /// and a byte of validity per row where a column has a null: no Arrow arrays made for rows
  /// that are read back), or kept if `keep` (the day's last slice). A listing's slices come in
  /// order; calls for different chunks may run at once.
  Status Add(size_t chunk, int64_t listing_id, std::span<const int64_t> labels,
             std::vector<OutputBlock> blocks, bool keep = false);

  /// Once every slice is added: the chunks' files complete and opened for reading, the rows
  /// numbered in output order (chunk after chunk, each listing by listing in increasing ListingId,
  /// a listing's slices in order). No Add after.
  Status Seal();

  /// Rows added (every chunk's).
  int64_t rows() const { return total_rows_; }

  /// Output rows [first, first + count) once sealed, in one record batch. Calls may run at once:
  /// a day's rows are merged in pieces of the day file's chunk of rows, which the writer then
  /// takes as they are, whatever the chunks of listings they came from.
  Result<std::shared_ptr<arrow::RecordBatch>> MergeRows(int64_t first, int64_t count) const;

  /// Bytes written to the files (0 in memory).
  int64_t spilled_bytes() const;

 private:
  /// A listing's rows of one slice: in its chunk's file (`file_bytes` from `file_offset`), or in
  /// memory.
  struct Entry {
    int64_t listing_id = 0;
    int64_t rows = 0;
    int64_t file_offset = -1;
    int64_t file_bytes = 0;
    std::vector<int64_t> labels;
    std::vector<OutputBlock> blocks;
  };
  struct Chunk {
    std::vector<Entry> entries;
    std::string path;                                    // its file, once written to
    std::shared_ptr<arrow::io::OutputStream> stream;     // buffered
    std::shared_ptr<arrow::io::RandomAccessFile> input;  // once sealed
    int64_t written = 0;                                 // bytes
  };
  /// An entry in output order, and the output row it starts at.
  struct Place {
    int64_t first_row;
    size_t chunk;
    size_t entry;
  };

  SliceOutputs(std::string dir, std::shared_ptr<arrow::Schema> schema, size_t chunks);
  Status Write(Chunk& chunk, size_t index, std::span<const int64_t> labels,
               const std::vector<OutputBlock>& blocks);

  std::string dir_;
  std::shared_ptr<arrow::Schema> schema_;
  std::vector<ValueType> types_;  // of every column but ListingId and TimeBucket
  std::vector<Chunk> chunks_;
  std::vector<Place> places_;  // once sealed
  int64_t total_rows_ = 0;
  bool sealed_ = false;
};

}  // namespace intraday
