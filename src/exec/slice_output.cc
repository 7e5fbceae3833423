#include "exec/slice_output.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <system_error>

#include <arrow/io/buffered.h>
#include <arrow/io/file.h>
#include <fmt/format.h>

#include "exec/output_schema.h"

namespace intraday {
namespace {

constexpr int64_t kWriteBufferBytes = int64_t{64} << 10;  // a buffer per chunk of listings

Status Named(const std::string& path, const Status& status) {
  if (status.ok()) return status;
  return status.WithMessage(path, ": ", status.message());
}

// A listing's rows of a slice in a chunk's file: its labels, a byte per column (1: its validity
// follows its values), then each column (schema order): numbers (8 bytes a row) and, unless
// every row is valid (flows, counts), a byte of validity per row; strings as validity, uint32 end
// offsets and chars. Every part starts at a multiple of 8 bytes, so that numbers read in place
// are aligned.
int64_t Padded(int64_t bytes) { return (bytes + 7) & ~int64_t{7}; }

/// Writes parts padded to 8 bytes.
class PaddedWriter {
 public:
  explicit PaddedWriter(arrow::io::OutputStream* stream) : stream_(stream) {}
  Status Write(const void* data, int64_t bytes) {
    INTRADAY_RETURN_NOT_OK(stream_->Write(data, bytes));
    static constexpr uint8_t kZeros[8] = {};
    if (Padded(bytes) > bytes) INTRADAY_RETURN_NOT_OK(stream_->Write(kZeros, Padded(bytes) - bytes));
    written_ += Padded(bytes);
    return Status::OK();
  }
  int64_t written() const { return written_; }

 private:
  arrow::io::OutputStream* stream_;
  int64_t written_ = 0;
};

/// The columns' rows of a listing written at `at` (`rows` rows, after its labels), checked to
/// lie within the file's `size` bytes.
Result<std::vector<ColumnRows>> ReadColumns(const uint8_t* base, int64_t size, int64_t at, int64_t rows,
                                            const std::vector<ValueType>& types, const std::string& path) {
  std::vector<ColumnRows> columns(types.size());
  auto take = [&](int64_t bytes) -> Result<const uint8_t*> {
    if (at + bytes > size) return Status::Invalid(path, ": fewer bytes than written");
    const uint8_t* part = base + at;
    at += Padded(bytes);
    return part;
  };
  INTRADAY_ASSIGN_OR_RAISE(const uint8_t* has_validity, take(static_cast<int64_t>(types.size())));
  for (size_t c = 0; c < types.size(); ++c) {
    ColumnRows& column = columns[c];
    column.type = types[c];
    if (types[c] == ValueType::kString) {
      INTRADAY_ASSIGN_OR_RAISE(column.valid, take(rows));
      INTRADAY_ASSIGN_OR_RAISE(const uint8_t* ends, take(rows * 4));
      column.string_ends = reinterpret_cast<const uint32_t*>(ends);
      INTRADAY_ASSIGN_OR_RAISE(const uint8_t* chars, take(rows == 0 ? 0 : column.string_ends[rows - 1]));
      column.chars = reinterpret_cast<const char*>(chars);
    } else {
      INTRADAY_ASSIGN_OR_RAISE(column.values, take(rows * 8));
      if (has_validity[c] != 0) {
        INTRADAY_ASSIGN_OR_RAISE(column.valid, take(rows));
      }
    }
  }
  return columns;
}

}  // namespace

SliceOutputs::SliceOutputs(std::string dir, std::shared_ptr<arrow::Schema> schema, size_t chunks)
    : dir_(std::move(dir)), schema_(std::move(schema)), types_(MetricValueTypes(*schema_)), chunks_(chunks) {}

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

Status SliceOutputs::Add(size_t chunk, int64_t listing_id, std::span<const int64_t> labels,
                         std::vector<OutputBlock> blocks, bool keep) {
  if (chunk >= chunks_.size()) return Status::Invalid("time slice output: no chunk ", chunk);
  if (sealed_) return Status::Invalid("time slice output: rows added once sealed");
  std::vector<ValueType> produced;
  for (const auto& block : blocks) {
    if (block.rows() != labels.size())
      return Status::Invalid("time slice output: a module produced ", block.rows(), " rows for ",
                             labels.size(), " buckets of listing ", listing_id);
    for (size_t c = 0; c < block.num_columns(); ++c) produced.push_back(block.column(c).type);
  }
  if (produced != types_)
    return Status::Invalid("time slice output: modules produced ", produced.size() + 2,
                           " columns (or other types) for a schema of ", types_.size() + 2);
  if (labels.empty()) return Status::OK();
  Chunk& out = chunks_[chunk];
  Entry entry;
  entry.listing_id = listing_id;
  entry.rows = static_cast<int64_t>(labels.size());
  if (dir_.empty() || keep) {
    entry.labels.assign(labels.begin(), labels.end());
    entry.blocks = std::move(blocks);
  } else {
    entry.file_offset = out.written;
    const Status written = Write(out, chunk, labels, blocks);
    if (!written.ok()) return Named(out.path, written);
    entry.file_bytes = out.written - entry.file_offset;
  }
  out.entries.push_back(std::move(entry));
  return Status::OK();
}

Status SliceOutputs::Write(Chunk& out, size_t index, std::span<const int64_t> labels,
                           const std::vector<OutputBlock>& blocks) {
  if (out.stream == nullptr) {
    out.path = fmt::format("{}/chunk-{:05d}.rows", dir_, index);
    INTRADAY_ASSIGN_OR_RAISE(auto file, arrow::io::FileOutputStream::Open(out.path));
    // Parts of a few KiB each (a column of a listing's slice): a write call each cost ~4% of a
    // sliced day's CPU (docs/benchmarks.md, "Session 22").
    INTRADAY_ASSIGN_OR_RAISE(out.stream, arrow::io::BufferedOutputStream::Create(
                                             kWriteBufferBytes, arrow::default_memory_pool(), file));
  }
  PaddedWriter writer(out.stream.get());
  const auto rows = static_cast<int64_t>(labels.size());
  INTRADAY_RETURN_NOT_OK(writer.Write(labels.data(), rows * 8));
  std::vector<uint8_t> has_validity;
  for (const auto& block : blocks) {
    for (size_t c = 0; c < block.num_columns(); ++c) {
      const OutputBlock::Column& column = block.column(c);
      has_validity.push_back(column.type == ValueType::kString ||
                             std::memchr(column.valid.data(), 0, column.valid.size()) != nullptr);
    }
  }
  INTRADAY_RETURN_NOT_OK(writer.Write(has_validity.data(), static_cast<int64_t>(has_validity.size())));
  size_t next = 0;
  std::vector<uint32_t> ends;
  std::string chars;
  for (const auto& block : blocks) {
    for (size_t c = 0; c < block.num_columns(); ++c) {
      const OutputBlock::Column& column = block.column(c);
      if (column.type == ValueType::kString) {
        INTRADAY_RETURN_NOT_OK(writer.Write(column.valid.data(), rows));
        ends.clear();
        chars.clear();
        for (const std::string& s : column.str) {
          chars += s;
          if (chars.size() > UINT32_MAX)
            return Status::Invalid("a listing's strings exceed 4 GiB in a slice");
          ends.push_back(static_cast<uint32_t>(chars.size()));
        }
        INTRADAY_RETURN_NOT_OK(writer.Write(ends.data(), rows * 4));
        INTRADAY_RETURN_NOT_OK(writer.Write(chars.data(), static_cast<int64_t>(chars.size())));
      } else {
        const void* values = column.type == ValueType::kInt64 ? static_cast<const void*>(column.i64.data())
                                                              : static_cast<const void*>(column.f64.data());
        INTRADAY_RETURN_NOT_OK(writer.Write(values, rows * 8));
        if (has_validity[next] != 0) INTRADAY_RETURN_NOT_OK(writer.Write(column.valid.data(), rows));
      }
      ++next;
    }
  }
  out.written += writer.written();
  return Status::OK();
}

Status SliceOutputs::Seal() {
  if (sealed_) return Status::OK();
  sealed_ = true;
  total_rows_ = 0;
  for (size_t c = 0; c < chunks_.size(); ++c) {
    Chunk& chunk = chunks_[c];
    if (chunk.stream != nullptr) {
      const Status opened = [&]() -> Status {
        INTRADAY_RETURN_NOT_OK(chunk.stream->Close());
        // Read where each piece of rows needs it (pread: callers at once), not mapped: a mapping's
        // page faults and its unmapping (a TLB shootdown on every core) took a held 200-listing
        // worker's samples ~2%.
        INTRADAY_ASSIGN_OR_RAISE(chunk.input, arrow::io::ReadableFile::Open(chunk.path));
        return Status::OK();
      }();
      if (!opened.ok()) return Named(chunk.path, opened);
    }
    std::vector<size_t> order(chunk.entries.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return chunk.entries[a].listing_id < chunk.entries[b].listing_id;
    });
    for (size_t e : order) {
      places_.push_back({total_rows_, c, e});
      total_rows_ += chunk.entries[e].rows;
    }
  }
  return Status::OK();
}

Result<std::shared_ptr<arrow::RecordBatch>> SliceOutputs::MergeRows(int64_t first, int64_t count) const {
  if (!sealed_) return Status::Invalid("time slice output: rows merged before the output is sealed");
  if (first < 0 || count <= 0 || first + count > total_rows_)
    return Status::Invalid("time slice output: rows ", first, "..", first + count, " of ", total_rows_);
  OutputAssembler assembler(schema_, count);
  assembler.ExpectRows(count);
  // The entry holding row `first`, then the ones after it up to row first + count.
  auto place = std::upper_bound(places_.begin(), places_.end(), first,
                                [](int64_t row, const Place& p) { return row < p.first_row; }) -
               1;
  std::shared_ptr<arrow::Buffer> bytes;
  for (; place != places_.end() && place->first_row < first + count; ++place) {
    const Chunk& chunk = chunks_[place->chunk];
    const Entry& entry = chunk.entries[place->entry];
    const int64_t begin = std::max<int64_t>(0, first - place->first_row);
    const int64_t end = std::min(entry.rows, first + count - place->first_row);
    if (entry.file_offset < 0) {
      INTRADAY_RETURN_NOT_OK(
          assembler.Append(entry.listing_id, entry.labels, ColumnRows::Of(entry.blocks), begin, end));
      continue;
    }
    auto read = chunk.input->ReadAt(entry.file_offset, entry.file_bytes);
    if (!read.ok()) return Named(chunk.path, read.status());
    bytes = *std::move(read);
    const uint8_t* base = bytes->data();
    if (bytes->size() != entry.file_bytes || entry.rows * 8 > bytes->size())
      return Status::Invalid(chunk.path, ": fewer bytes than written");
    const std::span<const int64_t> labels(reinterpret_cast<const int64_t*>(base),
                                          static_cast<size_t>(entry.rows));
    INTRADAY_ASSIGN_OR_RAISE(auto columns, ReadColumns(base, bytes->size(), Padded(entry.rows * 8),
                                                       entry.rows, types_, chunk.path));
    INTRADAY_RETURN_NOT_OK(assembler.Append(entry.listing_id, labels, columns, begin, end));
  }
  INTRADAY_ASSIGN_OR_RAISE(auto batches, assembler.Finish());
  if (batches.size() != 1)
    return Status::Invalid("time slice output: rows ", first, "..", first + count, " not merged");
  return batches.front();
}

int64_t SliceOutputs::spilled_bytes() const {
  int64_t bytes = 0;
  for (const Chunk& chunk : chunks_) bytes += chunk.written;
  return bytes;
}

}  // namespace intraday
