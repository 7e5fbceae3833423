#include "shred/shredder.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <arrow/array.h>
#include <arrow/io/interfaces.h>
#include <arrow/ipc/writer.h>
#include <arrow/memory_pool.h>
#include <fmt/format.h>

#include "common/io_errors.h"
#include "io/arrow_compute.h"
#include "io/group_rows.h"
#include "io/listing_slots.h"
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
    std::unordered_set<int64_t> seen;
    std::vector<int64_t> ids;
    std::vector<int32_t> slot_of_id;
    for (const auto& batch : plan.batches) {
      first_slot.push_back(slots);
      std::vector<int64_t> listings(batch.listings.begin(), batch.listings.end());
      std::sort(listings.begin(), listings.end());
      for (int64_t listing : listings) {
        if (!seen.insert(listing).second) continue;
        ids.push_back(listing);
        slot_of_id.push_back(static_cast<int32_t>(slots++));
      }
    }
    first_slot.push_back(slots);
    slot_of = ListingSlots(ids, slot_of_id);
  }
  ListingSlots slot_of;
  std::vector<size_t> first_slot;  // per batch, its first slot; then the number of slots
  size_t slots = 0;
};

/// Shreds one input file: each read batch routed, and each batch's piece of it appended to that
/// batch's spill file (an IPC writer per batch) before the next batch is read.
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
    const size_t n_batches = request_.plan->batches.size();
    while (true) {
      INTRADAY_ASSIGN_OR_RAISE(auto batch, reader->Next());
      if (batch == nullptr) break;
      if (request_.stop_requested && request_.stop_requested()) {
        return Status::Cancelled("shredding of ", file_.display_path, " stopped");
      }
      *rows_read += batch->num_rows();
      // Grouped by route slot (batch, then listing within it): each batch's piece then holds
      // its listings' rows in runs, in source order within a listing, which the worker copies
      // run by run instead of row by row.
      std::vector<int64_t> starts;
      auto grouped = GroupRowsBySlot(*batch, slots_.slot_of, slots_.slots, &starts, &scatter_buffers_);
      if (!grouped.ok())
        return grouped.status().WithMessage(file_.display_path, ": ", grouped.status().message());
      const auto all = *std::move(grouped);
      batch.reset();  // the routed copy replaces the batch as read
      if (all->num_rows() == 0) continue;
      // Each batch's piece is a slice of the routed rows, appended to its spill file at once:
      // nothing is held from one read batch to the next.
      for (size_t b = 0; b < n_batches; ++b) {
        const int64_t begin = starts[slots_.first_slot[b]], end = starts[slots_.first_slot[b + 1]];
        if (end == begin) continue;
        *rows_routed += end - begin;
        INTRADAY_RETURN_NOT_OK(Append(request_.plan->batches[b].id, *all->Slice(begin, end - begin)));
      }
    }
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
  /// The routed copy's memory, written again by every read batch once the one before is
  /// written to the spill files and released.
  ScatterBuffers scatter_buffers_;
  struct Writer {
    std::string path;
    std::shared_ptr<arrow::io::OutputStream> file;
    std::shared_ptr<arrow::ipc::RecordBatchWriter> ipc;
    int64_t rows = 0;
  };

  /// Rows per read batch: half of this file's buffer share (it holds the batch as read and its
  /// routed copy), from the decoded bytes per row the plan measured for the table. (The pages and
  /// buffers of the Parquet reader come on top: docs/engine.md "Shredding".)
  int64_t BatchRows() const {
    int64_t rows = 0;
    uint64_t bytes = 0;
    const size_t t = TableIndex(file_.table);
    for (const auto& size : request_.plan->sizes) {
      rows += size.rows[t];
      bytes += size.bytes[t];
    }
    // At least enough rows to amortise a batch's fixed costs; at most a million, which keeps a
    // string column's characters far below Arrow's 2 GiB per array. A table the plan has no
    // size for (empty input files) reads batches of the reader's usual size.
    constexpr int64_t kMinRows = 1024, kMaxRows = 1024 * 1024, kUnknownSizeRows = 64 * 1024;
    if (rows == 0 || bytes == 0) return kUnknownSizeRows;
    const uint64_t row_bytes = std::max<uint64_t>(1, bytes / static_cast<uint64_t>(rows));
    return std::clamp<int64_t>(static_cast<int64_t>(buffer_bytes_ / 2 / row_bytes), kMinRows, kMaxRows);
  }

  /// Appends `piece` to the spill file of `batch`, which the first piece creates.
  Status Append(int batch, const arrow::RecordBatch& piece) {
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
    auto st = it->second.ipc->WriteRecordBatch(piece);
    if (!st.ok()) return SpillWriteError(st, it->second.path);
    it->second.rows += piece.num_rows();
    return Status::OK();
  }

  const ShredRequest& request_;
  const RouteSlots& slots_;
  const InputFile& file_;
  uint64_t buffer_bytes_;
  std::shared_ptr<arrow::Schema> schema_;
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
  // The largest files first (rows x columns read), so that no thread starts a large file when
  // the others are nearly done; each file writes its own spill files, in any order.
  std::vector<size_t> order(n_files);
  std::vector<uint64_t> weight(n_files);
  for (size_t i = 0; i < n_files; ++i) {
    order[i] = i;
    const auto* columns = ColumnsOf(plan, plan.files[i].table);
    weight[i] = static_cast<uint64_t>(plan.files[i].rows) * (columns != nullptr ? columns->size() : 1);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return weight[a] > weight[b]; });
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    while (!failed.load()) {
      const size_t k = next.fetch_add(1);
      if (k >= n_files) return;
      const size_t i = order[k];
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
