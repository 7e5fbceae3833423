// A sliced day's output rows (exec/sliced_day.h) between its slices: each slice's rows of a chunk
// of listings, in a scratch file of their own (or in memory where scratch is not local), merged
// listing by listing once the last slice is computed. A worker then holds a chunk's output at a
// time, not every listing's rows of the day (docs/engine.md, "A day in time slices").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <arrow/io/file.h>
#include <arrow/ipc/writer.h>
#include <arrow/record_batch.h>

#include "common/status.h"

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

  /// Chunk `chunk`'s rows of the next slice: `listing_rows[i]` rows of its i-th listing, in
  /// `batches`, listing after listing; kept in memory if `last` (the day's last slice, merged
  /// next). Every chunk has the same listings in every slice. Calls for different chunks may
  /// run at once; a chunk's slices come in order.
  Status Add(size_t chunk, std::vector<int64_t> listing_rows, const arrow::RecordBatchVector& batches,
             bool last = false);

  /// Chunk `chunk`'s rows of every slice added, listing by listing (a listing's slices in
  /// order), in batches of at most `batch_rows` rows; its files deleted.
  Result<arrow::RecordBatchVector> Merge(size_t chunk, int64_t batch_rows);

  /// Bytes of the files of the chunks merged so far (0 in memory).
  int64_t spilled_bytes() const;

 private:
  struct Slice {
    std::vector<int64_t> listing_rows;
    int in_file = 0;                   // its batches in the chunk's file
    arrow::RecordBatchVector batches;  // or in memory
  };
  struct Chunk {
    std::vector<Slice> slices;
    std::string path;                                 // its file, once written to
    std::shared_ptr<arrow::io::OutputStream> stream;  // buffered: the IPC writer writes buffer by buffer
    std::shared_ptr<arrow::ipc::RecordBatchWriter> writer;
  };

  SliceOutputs(std::string dir, std::shared_ptr<arrow::Schema> schema, size_t chunks);

  std::string dir_;
  std::shared_ptr<arrow::Schema> schema_;
  std::vector<Chunk> chunks_;
  std::vector<int64_t> spilled_;  // per chunk, bytes written
};

}  // namespace intraday
