#include "exec/slice_output.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <system_error>

#include <arrow/array/data.h>
#include <arrow/builder.h>
#include <arrow/io/buffered.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/util/bit_util.h>
#include <arrow/util/bitmap_ops.h>
#include <fmt/format.h>

namespace intraday {
namespace {

constexpr int64_t kWriteBufferBytes = int64_t{64} << 10;  // a buffer per chunk of listings

Status Named(const std::string& path, const Status& status) {
  if (status.ok()) return status;
  return status.WithMessage(path, ": ", status.message());
}

/// The batches of an IPC file, mapped: they stay valid after the file is deleted.
Result<arrow::RecordBatchVector> ReadIpcFile(const std::string& path) {
  INTRADAY_ASSIGN_OR_RAISE(auto file, arrow::io::MemoryMappedFile::Open(path, arrow::io::FileMode::READ));
  INTRADAY_ASSIGN_OR_RAISE(auto reader, arrow::ipc::RecordBatchFileReader::Open(file));
  arrow::RecordBatchVector batches;
  for (int i = 0; i < reader->num_record_batches(); ++i) {
    INTRADAY_ASSIGN_OR_RAISE(auto batch, reader->ReadRecordBatch(i));
    batches.push_back(std::move(batch));
  }
  return batches;
}

/// One column of merged batches, filled a range of rows at a time. Fixed-width values (but
/// booleans) are copied as bytes and their validity as bits: a builder's append per listing,
/// slice and column was ~4% of a 200-listing sliced day's CPU (docs/benchmarks.md, "Session 22").
/// Other types go through a builder.
class MergedColumn {
 public:
  static Result<MergedColumn> Make(const std::shared_ptr<arrow::DataType>& type) {
    MergedColumn column;
    column.type_ = type;
    if (arrow::is_fixed_width(type->id()) && type->id() != arrow::Type::BOOL && type->byte_width() > 0) {
      column.width_ = type->byte_width();
    } else {
      INTRADAY_RETURN_NOT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), type, &column.builder_));
    }
    return column;
  }

  /// Starts the next batch, of at most `rows` rows.
  Status Reserve(int64_t rows) {
    if (builder_ != nullptr) return builder_->Reserve(rows);
    INTRADAY_ASSIGN_OR_RAISE(values_, arrow::AllocateBuffer(rows * width_));
    validity_ = nullptr;
    capacity_ = rows;
    length_ = 0;
    return Status::OK();
  }

  /// Rows [offset, offset + length) of `from`.
  Status Append(const arrow::ArraySpan& from, int64_t offset, int64_t length) {
    if (builder_ != nullptr) return builder_->AppendArraySlice(from, offset, length);
    if (length_ + length > capacity_) return Status::Invalid("time slice output: a merged batch overflows");
    std::memcpy(values_->mutable_data() + length_ * width_,
                from.buffers[1].data + (from.offset + offset) * width_, static_cast<size_t>(length * width_));
    const uint8_t* valid = from.MayHaveNulls() ? from.buffers[0].data : nullptr;
    if (valid != nullptr && validity_ == nullptr) {  // the first nulls: the rows before all valid
      INTRADAY_ASSIGN_OR_RAISE(validity_, arrow::AllocateBitmap(capacity_));
      arrow::bit_util::SetBitsTo(validity_->mutable_data(), 0, length_, true);
    }
    if (valid != nullptr) {
      arrow::internal::CopyBitmap(valid, from.offset + offset, length, validity_->mutable_data(), length_);
    } else if (validity_ != nullptr) {
      arrow::bit_util::SetBitsTo(validity_->mutable_data(), length_, length, true);
    }
    length_ += length;
    return Status::OK();
  }

  Result<std::shared_ptr<arrow::Array>> Finish() {
    std::shared_ptr<arrow::Array> array;
    if (builder_ != nullptr) {
      INTRADAY_RETURN_NOT_OK(builder_->Finish(&array));
      return array;
    }
    const int64_t nulls =
        validity_ == nullptr ? 0 : length_ - arrow::internal::CountSetBits(validity_->data(), 0, length_);
    if (nulls == 0) validity_ = nullptr;
    array = arrow::MakeArray(
        arrow::ArrayData::Make(type_, length_, {std::move(validity_), std::move(values_)}, nulls));
    length_ = capacity_ = 0;
    return array;
  }

 private:
  std::shared_ptr<arrow::DataType> type_;
  int width_ = 0;                                 // > 0: bytes a value, copied
  std::unique_ptr<arrow::ArrayBuilder> builder_;  // or appended through this
  std::shared_ptr<arrow::Buffer> values_, validity_;
  int64_t capacity_ = 0, length_ = 0;
};

}  // namespace

SliceOutputs::SliceOutputs(std::string dir, std::shared_ptr<arrow::Schema> schema, size_t chunks)
    : dir_(std::move(dir)), schema_(std::move(schema)), chunks_(chunks), spilled_(chunks, 0) {}

SliceOutputs::~SliceOutputs() {
  if (dir_.empty()) return;
  std::error_code ec;  // files of chunks never merged (an error): best effort
  std::filesystem::remove_all(dir_, ec);
}

Result<std::unique_ptr<SliceOutputs>> SliceOutputs::Open(std::string dir,
                                                         std::shared_ptr<arrow::Schema> schema,
                                                         size_t chunks) {
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IOError(dir, ": cannot create the time slices' output directory: ", ec.message());
  }
  return std::unique_ptr<SliceOutputs>(new SliceOutputs(std::move(dir), std::move(schema), chunks));
}

Status SliceOutputs::Add(size_t chunk, std::vector<int64_t> listing_rows,
                         const arrow::RecordBatchVector& batches, bool last) {
  if (chunk >= chunks_.size()) return Status::Invalid("time slice output: no chunk ", chunk);
  Chunk& out = chunks_[chunk];
  if (!out.slices.empty() && out.slices.front().listing_rows.size() != listing_rows.size())
    return Status::Invalid("time slice output: chunk ", chunk, " changes its listings between slices");
  Slice slice;
  slice.listing_rows = std::move(listing_rows);
  if (dir_.empty() || last) {
    slice.batches = batches;
  } else {
    // One file per chunk, its slices' batches one after the other.
    auto written = [&]() -> Status {
      if (out.writer == nullptr) {
        out.path = fmt::format("{}/chunk-{:05d}.arrow", dir_, chunk);
        INTRADAY_ASSIGN_OR_RAISE(auto file, arrow::io::FileOutputStream::Open(out.path));
        // The writer writes each column's buffers on their own (~2.6 KiB a column for a chunk's
        // slice of the benchmark pass): a write call each cost ~4% of a sliced day's CPU.
        INTRADAY_ASSIGN_OR_RAISE(out.stream, arrow::io::BufferedOutputStream::Create(
                                                 kWriteBufferBytes, arrow::default_memory_pool(), file));
        INTRADAY_ASSIGN_OR_RAISE(out.writer, arrow::ipc::MakeFileWriter(out.stream, schema_));
      }
      for (const auto& batch : batches) INTRADAY_RETURN_NOT_OK(out.writer->WriteRecordBatch(*batch));
      return Status::OK();
    }();
    if (!written.ok()) return Named(out.path, written);
    slice.in_file = static_cast<int>(batches.size());
  }
  out.slices.push_back(std::move(slice));
  return Status::OK();
}

Result<arrow::RecordBatchVector> SliceOutputs::Merge(size_t chunk, int64_t batch_rows) {
  if (chunk >= chunks_.size()) return Status::Invalid("time slice output: no chunk ", chunk);
  Chunk out = std::move(chunks_[chunk]);
  chunks_[chunk] = Chunk();
  std::vector<Slice>& slices = out.slices;
  if (slices.empty()) return arrow::RecordBatchVector{};
  if (out.writer != nullptr) {  // the slices' batches in the file, in order
    auto read = [&]() -> Result<arrow::RecordBatchVector> {
      INTRADAY_RETURN_NOT_OK(out.writer->Close());
      INTRADAY_ASSIGN_OR_RAISE(const int64_t bytes, out.stream->Tell());
      spilled_[chunk] = bytes;
      INTRADAY_RETURN_NOT_OK(out.stream->Close());
      return ReadIpcFile(out.path);
    }();
    if (!read.ok()) return Named(out.path, read.status());
    std::error_code ec;
    std::filesystem::remove(out.path, ec);
    size_t next = 0;
    for (Slice& slice : slices) {
      for (int i = 0; i < slice.in_file; ++i) {
        if (next == read->size()) return Status::Invalid(out.path, ": fewer batches than written");
        slice.batches.push_back((*read)[next++]);
      }
    }
  }
  // Listing by listing, its rows of each slice in turn, appended to one MergedColumn per column
  // (slices of arrays appended through spans: no array object per listing and slice).
  std::vector<std::vector<std::vector<arrow::ArraySpan>>> spans(slices.size());  // [slice][batch][column]
  int64_t remaining = 0;  // rows not yet in a merged batch
  for (size_t s = 0; s < slices.size(); ++s) {
    const Slice& slice = slices[s];
    int64_t rows = 0;
    for (const auto& batch : slice.batches) {
      if (!batch->schema()->Equals(*schema_))
        return Status::Invalid("time slice output: chunk ", chunk, " has a batch of another schema");
      rows += batch->num_rows();
      std::vector<arrow::ArraySpan> columns;
      for (int c = 0; c < batch->num_columns(); ++c) columns.emplace_back(*batch->column_data(c));
      spans[s].push_back(std::move(columns));
    }
    const int64_t listed = std::accumulate(slice.listing_rows.begin(), slice.listing_rows.end(), int64_t{0});
    if (rows != listed)
      return Status::Invalid("time slice output: chunk ", chunk, " has ", rows, " rows, its listings ",
                             listed);
    remaining += rows;
  }
  std::vector<MergedColumn> columns;
  for (const auto& field : schema_->fields()) {
    INTRADAY_ASSIGN_OR_RAISE(auto column, MergedColumn::Make(field->type()));
    columns.push_back(std::move(column));
  }
  auto reserve = [&]() -> Status {
    for (auto& column : columns) INTRADAY_RETURN_NOT_OK(column.Reserve(std::min(remaining, batch_rows)));
    return Status::OK();
  };
  INTRADAY_RETURN_NOT_OK(reserve());
  arrow::RecordBatchVector merged;
  int64_t pending = 0;
  auto flush = [&]() -> Status {
    if (pending == 0) return Status::OK();
    arrow::ArrayVector arrays;
    for (auto& column : columns) {
      INTRADAY_ASSIGN_OR_RAISE(auto array, column.Finish());
      arrays.push_back(std::move(array));
    }
    merged.push_back(arrow::RecordBatch::Make(schema_, pending, std::move(arrays)));
    remaining -= pending;
    pending = 0;
    return remaining > 0 ? reserve() : Status::OK();
  };
  struct Cursor {
    size_t batch = 0;
    int64_t row = 0;
  };
  std::vector<Cursor> at(slices.size());
  for (size_t l = 0; l < slices.front().listing_rows.size(); ++l) {
    for (size_t s = 0; s < slices.size(); ++s) {
      int64_t rows = slices[s].listing_rows[l];
      while (rows > 0) {
        Cursor& cursor = at[s];
        while (cursor.row == slices[s].batches[cursor.batch]->num_rows()) cursor = {cursor.batch + 1, 0};
        const int64_t take =
            std::min({rows, slices[s].batches[cursor.batch]->num_rows() - cursor.row, batch_rows - pending});
        const std::vector<arrow::ArraySpan>& from = spans[s][cursor.batch];
        for (size_t c = 0; c < columns.size(); ++c)
          INTRADAY_RETURN_NOT_OK(columns[c].Append(from[c], cursor.row, take));
        cursor.row += take;
        rows -= take;
        pending += take;
        if (pending == batch_rows) INTRADAY_RETURN_NOT_OK(flush());
      }
    }
  }
  INTRADAY_RETURN_NOT_OK(flush());
  return merged;
}

int64_t SliceOutputs::spilled_bytes() const {
  return std::accumulate(spilled_.begin(), spilled_.end(), int64_t{0});
}

}  // namespace intraday
