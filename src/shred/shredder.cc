#include "shred/shredder.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <arrow/array.h>
#include <arrow/io/interfaces.h>
#include <arrow/ipc/writer.h>
#include <arrow/memory_pool.h>
#include <arrow/util/bit_util.h>
#include <arrow/util/byte_size.h>
#include <fmt/format.h>

#include "common/io_errors.h"
#include "io/arrow_compute.h"
#include "io/table_reader.h"

namespace intraday {
namespace {

// A failed write of a spill file, naming it. The status keeps its errno, so that a full scratch
// disk stops the run with a clear message (exec/disk_full.h).
Status SpillWriteError(const Status& status, const std::string& path) {
  return status.WithMessage("cannot write spill file ", path, ": ", status.message());
}

const std::vector<std::string>* ColumnsOf(const DayPlan& plan, Table table) {
  for (const auto& tc : plan.columns) {
    if (tc.table == table) return &tc.columns;
  }
  return nullptr;
}

/// Where a listing's rows go: route slots numbered by batch (plan order), then by ListingId
/// within the batch.
struct RouteSlots {
  explicit RouteSlots(const DayPlan& plan) {
    for (const auto& batch : plan.batches) {
      first_slot.push_back(slots);
      std::vector<int64_t> listings(batch.listings.begin(), batch.listings.end());
      std::sort(listings.begin(), listings.end());
      for (int64_t listing : listings) {
        if (slot_of.emplace(listing, static_cast<int32_t>(slots)).second) ++slots;
      }
    }
    first_slot.push_back(slots);
  }
  std::unordered_map<int64_t, int32_t> slot_of;
  std::vector<size_t> first_slot;  // per batch, its first slot; then the number of slots
  size_t slots = 0;
};

/// One column's rows moved to their places: row i of `src` becomes row place[i] of the result
/// (place[i] < 0: dropped), `rows` rows in all. One sequential pass over the source, writing to
/// one sequential stream per route slot (where Arrow's Take would read the source at random).
/// The table reader hands out numbers, timestamps, booleans and plain strings only.
Result<std::shared_ptr<arrow::ArrayData>> ScatterColumn(const arrow::ArrayData& src, const int64_t* place,
                                                        int64_t rows) {
  const int64_t n = src.length;
  std::shared_ptr<arrow::Buffer> validity;
  int64_t null_count = 0;
  if (src.MayHaveNulls()) {
    INTRADAY_ASSIGN_OR_RAISE(validity, arrow::AllocateBitmap(rows));
    uint8_t* bits = validity->mutable_data();
    const uint8_t* in = src.buffers[0]->data();
    for (int64_t i = 0; i < n; ++i) {
      if (place[i] < 0) continue;
      const bool valid = arrow::bit_util::GetBit(in, src.offset + i);
      arrow::bit_util::SetBitTo(bits, place[i], valid);
      null_count += valid ? 0 : 1;
    }
    if (null_count == 0) validity = nullptr;
  }
  const auto& type = src.type;
  if (type->id() == arrow::Type::STRING) {
    INTRADAY_ASSIGN_OR_RAISE(auto offsets_buffer, arrow::AllocateBuffer((rows + 1) * 4));
    auto* offsets = reinterpret_cast<int32_t*>(offsets_buffer->mutable_data());
    const int32_t* in = src.GetValues<int32_t>(1);
    offsets[0] = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (place[i] >= 0) offsets[place[i] + 1] = in[i + 1] - in[i];
    }
    for (int64_t r = 0; r < rows; ++r) offsets[r + 1] += offsets[r];
    INTRADAY_ASSIGN_OR_RAISE(auto chars, arrow::AllocateBuffer(offsets[rows]));
    const uint8_t* in_chars = src.buffers[2] != nullptr ? src.buffers[2]->data() : nullptr;
    for (int64_t i = 0; i < n; ++i) {
      if (place[i] >= 0 && in[i + 1] > in[i]) {
        std::memcpy(chars->mutable_data() + offsets[place[i]], in_chars + in[i],
                    static_cast<size_t>(in[i + 1] - in[i]));
      }
    }
    return arrow::ArrayData::Make(type, rows, {validity, std::move(offsets_buffer), std::move(chars)},
                                  null_count);
  }
  if (type->id() == arrow::Type::BOOL) {
    INTRADAY_ASSIGN_OR_RAISE(auto values, arrow::AllocateBitmap(rows));
    const uint8_t* in = src.buffers[1]->data();
    for (int64_t i = 0; i < n; ++i) {
      if (place[i] >= 0)
        arrow::bit_util::SetBitTo(values->mutable_data(), place[i],
                                  arrow::bit_util::GetBit(in, src.offset + i));
    }
    return arrow::ArrayData::Make(type, rows, {validity, std::move(values)}, null_count);
  }
  const auto* fixed = dynamic_cast<const arrow::FixedWidthType*>(type.get());
  const int width = fixed != nullptr && type->id() != arrow::Type::DICTIONARY ? fixed->bit_width() : 0;
  auto scatter = [&]<typename T>(T* out) {
    const T* in = src.GetValues<T>(1);
    for (int64_t i = 0; i < n; ++i) {
      if (place[i] >= 0) out[place[i]] = in[i];
    }
  };
  INTRADAY_ASSIGN_OR_RAISE(auto values, arrow::AllocateBuffer(rows * std::max(width, 8) / 8));
  switch (width) {
    case 64: scatter(reinterpret_cast<uint64_t*>(values->mutable_data())); break;
    case 32: scatter(reinterpret_cast<uint32_t*>(values->mutable_data())); break;
    case 16: scatter(reinterpret_cast<uint16_t*>(values->mutable_data())); break;
    case 8: scatter(reinterpret_cast<uint8_t*>(values->mutable_data())); break;
    default: return Status::Invalid("cannot shred a column of type ", type->ToString());
  }
  return arrow::ArrayData::Make(type, rows, {validity, std::move(values)}, null_count);
}

/// Shreds one input file: per-batch pending pieces, flushed to per-batch IPC writers whenever
/// the pending bytes exceed this file's share of the buffer.
class FileShredder {
 public:
  FileShredder(const ShredRequest& request, const RouteSlots& slots, const InputFile& file,
               uint64_t buffer_bytes)
      : request_(request), slots_(slots), file_(file), buffer_bytes_(buffer_bytes) {}

  Status Run(std::vector<SpillFile>* spills, int64_t* rows_read, int64_t* rows_routed) {
    const auto* columns = ColumnsOf(*request_.plan, file_.table);
    if (columns == nullptr) return Status::Invalid("no columns planned for table ", SpecOf(file_.table).key);
    TableReadOptions options;
    options.columns = *columns;
    options.batch_rows = BatchRows();
    INTRADAY_ASSIGN_OR_RAISE(auto reader, TableFileReader::Open(request_.lake->fs(), file_.path,
                                                                file_.display_path, file_.table, options));
    schema_ = reader->schema();
    const int listing_column = schema_->GetFieldIndex("ListingId");
    const size_t n_batches = request_.plan->batches.size();
    std::vector<int64_t> starts;       // per route slot, its first row in the routed order
    std::vector<int32_t> slot_of_row;  // -1: a listing outside the plan
    std::vector<int64_t> place;        // per row read, its row in the routed order (or -1)
    while (true) {
      INTRADAY_ASSIGN_OR_RAISE(auto batch, reader->Next());
      if (batch == nullptr) break;
      if (request_.stop_requested && request_.stop_requested()) {
        return Status::Cancelled("shredding of ", file_.display_path, " stopped");
      }
      *rows_read += batch->num_rows();
      // This file's share of the buffer holds the batch being read (a quarter), its routed
      // copy (as much) and the pending rows (half): write the pending rows out first if the
      // copy would not fit beside them.
      const auto batch_bytes = static_cast<uint64_t>(arrow::util::TotalBufferSize(*batch));
      if (pending_bytes_ > 0 && pending_bytes_ + batch_bytes > buffer_bytes_ / 2)
        INTRADAY_RETURN_NOT_OK(FlushAll());
      // A stable counting sort of the rows by route slot (batch, then listing within it): each
      // batch's piece then holds its listings' rows in runs, in source order within a listing,
      // which the worker gathers run by run instead of row by row.
      const auto& ids = static_cast<const arrow::Int64Array&>(*batch->column(listing_column));
      const int64_t n = ids.length();
      slot_of_row.assign(static_cast<size_t>(n), -1);
      starts.assign(slots_.slots + 1, 0);
      int64_t last_id = 0;
      int32_t last_slot = -1;
      bool looked_up = false;
      for (int64_t i = 0; i < n; ++i) {
        if (ids.IsNull(i)) continue;
        const int64_t id = ids.Value(i);
        if (!looked_up || id != last_id) {
          const auto it = slots_.slot_of.find(id);
          last_slot = it == slots_.slot_of.end() ? -1 : it->second;
          last_id = id;
          looked_up = true;
        }
        if (last_slot < 0) continue;
        slot_of_row[static_cast<size_t>(i)] = last_slot;
        ++starts[static_cast<size_t>(last_slot) + 1];
      }
      for (size_t slot = 1; slot < starts.size(); ++slot) starts[slot] += starts[slot - 1];
      place.assign(static_cast<size_t>(n), -1);
      {
        std::vector<int64_t> next(starts.begin(), starts.end() - 1);
        for (int64_t i = 0; i < n; ++i) {
          const int32_t slot = slot_of_row[static_cast<size_t>(i)];
          if (slot >= 0) place[static_cast<size_t>(i)] = next[static_cast<size_t>(slot)]++;
        }
      }
      const int64_t routed = starts.back();
      if (routed == 0) continue;
      std::vector<std::shared_ptr<arrow::ArrayData>> scattered(static_cast<size_t>(batch->num_columns()));
      for (int c = 0; c < batch->num_columns(); ++c) {
        auto column = ScatterColumn(*batch->column_data(c), place.data(), routed);
        if (!column.ok()) {
          return column.status().WithMessage(file_.display_path, ": column ", schema_->field(c)->name(), ": ",
                                             column.status().message());
        }
        scattered[static_cast<size_t>(c)] = *std::move(column);
      }
      auto all = arrow::RecordBatch::Make(schema_, routed, std::move(scattered));
      // Each batch's piece is a slice of the routed rows; the slices share the buffers, which
      // go when the last of them is written.
      for (size_t b = 0; b < n_batches; ++b) {
        const int64_t begin = starts[slots_.first_slot[b]], end = starts[slots_.first_slot[b + 1]];
        if (end == begin) continue;
        *rows_routed += end - begin;
        pending_bytes_ += batch_bytes * static_cast<uint64_t>(end - begin) / static_cast<uint64_t>(n);
        pending_[request_.plan->batches[b].id].push_back(all->Slice(begin, end - begin));
      }
    }
    INTRADAY_RETURN_NOT_OK(FlushAll());
    for (auto& [batch, writer] : writers_) {
      // Closing writes the IPC footer: it can find the disk full too.
      auto close = [&writer]() -> Result<int64_t> {
        INTRADAY_RETURN_NOT_OK(writer.ipc->Close());
        INTRADAY_ASSIGN_OR_RAISE(int64_t size, writer.file->Tell());
        INTRADAY_RETURN_NOT_OK(writer.file->Close());
        return size;
      };
      auto size = close();
      if (!size.ok()) return SpillWriteError(size.status(), writer.path);
      spills->push_back(
          SpillFile{batch, file_.table, writer.path, writer.rows, static_cast<uint64_t>(*size)});
    }
    return Status::OK();
  }

 private:
  struct Writer {
    std::string path;
    std::shared_ptr<arrow::io::OutputStream> file;
    std::shared_ptr<arrow::ipc::RecordBatchWriter> ipc;
    int64_t rows = 0;
  };

  /// Rows per read batch: a quarter of this file's buffer share, from the decoded bytes per row
  /// the plan measured for the table. (Pages the Parquet reader decompresses come on top: one
  /// per column, docs/engine.md "Shredding".)
  int64_t BatchRows() const {
    int64_t rows = 0;
    uint64_t bytes = 0;
    const size_t t = TableIndex(file_.table);
    for (const auto& size : request_.plan->sizes) {
      rows += size.rows[t];
      bytes += size.bytes[t];
    }
    constexpr int64_t kMinRows = 1024, kMaxRows = 64 * 1024;
    if (rows == 0 || bytes == 0) return kMaxRows;
    const uint64_t row_bytes = std::max<uint64_t>(1, bytes / static_cast<uint64_t>(rows));
    return std::clamp<int64_t>(static_cast<int64_t>(buffer_bytes_ / 4 / row_bytes), kMinRows, kMaxRows);
  }

  Status FlushAll() {
    for (auto& [batch, pieces] : pending_) {
      if (pieces.empty()) continue;
      auto it = writers_.find(batch);
      if (it == writers_.end()) {
        Writer writer;
        const std::string dir = fmt::format("{}/batch-{:05d}", request_.spill_dir, batch);
        INTRADAY_RETURN_NOT_OK(request_.scratch->CreateDirs(dir));
        writer.path = fmt::format("{}/{}-{}.arrow", dir, SpecOf(file_.table).key, file_.mic);
        auto file = request_.scratch->OpenOutput(writer.path);
        if (!file.ok()) return SpillWriteError(file.status(), writer.path);
        writer.file = *file;
        auto ipc = arrow::ipc::MakeFileWriter(writer.file, schema_);  // writes the file's header
        if (!ipc.ok()) return SpillWriteError(ipc.status(), writer.path);
        writer.ipc = *ipc;
        it = writers_.emplace(batch, std::move(writer)).first;
      }
      for (const auto& piece : pieces) {
        auto st = it->second.ipc->WriteRecordBatch(*piece);
        if (!st.ok()) return SpillWriteError(st, it->second.path);
        it->second.rows += piece->num_rows();
      }
      pieces.clear();
    }
    pending_bytes_ = 0;
    return Status::OK();
  }

  const ShredRequest& request_;
  const RouteSlots& slots_;
  const InputFile& file_;
  uint64_t buffer_bytes_;
  std::shared_ptr<arrow::Schema> schema_;
  std::map<int, std::vector<std::shared_ptr<arrow::RecordBatch>>> pending_;
  uint64_t pending_bytes_ = 0;
  std::map<int, Writer> writers_;
};

}  // namespace

Result<ShredResult> ShredDay(const ShredRequest& request) {
  INTRADAY_RETURN_NOT_OK(EnsureComputeInitialized());
  const DayPlan& plan = *request.plan;
  const RouteSlots slots(plan);
  const size_t n_files = plan.files.size();
  const int threads = std::max(1, std::min<int>(request.threads, static_cast<int>(n_files)));
  const uint64_t per_thread_buffer =
      std::max<uint64_t>(request.buffer_bytes / static_cast<uint64_t>(threads), 1 << 20);

  std::vector<std::vector<SpillFile>> spills(n_files);
  std::vector<int64_t> rows_read(n_files, 0), rows_routed(n_files, 0);
  std::vector<Status> errors(n_files);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    while (!failed.load()) {
      const size_t i = next.fetch_add(1);
      if (i >= n_files) return;
      FileShredder shredder(request, slots, plan.files[i], per_thread_buffer);
      errors[i] = shredder.Run(&spills[i], &rows_read[i], &rows_routed[i]);
      if (!errors[i].ok()) failed.store(true);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  for (const auto& status : errors) INTRADAY_RETURN_NOT_OK(status);

  // The driver lives through the whole run, beside the workers: hand the shredding's memory
  // back to the system instead of keeping it in the allocator's caches.
  arrow::default_memory_pool()->ReleaseUnused();
  ShredResult result;
  for (size_t i = 0; i < n_files; ++i) {
    result.rows_read += rows_read[i];
    result.rows_routed += rows_routed[i];
    for (auto& spill : spills[i]) {
      result.bytes_written += spill.bytes;
      result.files.push_back(std::move(spill));
    }
  }
  std::stable_sort(result.files.begin(), result.files.end(),
                   [](const SpillFile& a, const SpillFile& b) { return a.batch < b.batch; });
  return result;
}

}  // namespace intraday
