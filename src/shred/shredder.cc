#include "shred/shredder.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <arrow/array.h>
#include <arrow/io/interfaces.h>
#include <arrow/ipc/writer.h>
#include <arrow/memory_pool.h>
#include <arrow/util/bit_util.h>
#include <fmt/format.h>

#include "common/io_errors.h"
#include "io/arrow_compute.h"
#include "io/column_pages.h"
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

  /// Column chunks read from pages, and through the Arrow reader, by Run.
  int64_t page_column_chunks() const { return page_column_chunks_; }
  int64_t arrow_column_chunks() const { return arrow_column_chunks_; }

  Status Run(std::vector<SpillFile>* spills, int64_t* rows_read, int64_t* rows_routed) {
    const auto* columns = ColumnsOf(*request_.plan, file_.table);
    if (columns == nullptr) return Status::Invalid("no columns planned for table ", SpecOf(file_.table).key);
    TableReadOptions options;
    options.columns = *columns;
    options.batch_rows = BatchRows();
    INTRADAY_ASSIGN_OR_RAISE(auto reader, TableFileReader::Open(request_.lake->fs(), file_.path,
                                                                file_.display_path, file_.table, options));
    schema_ = reader->schema();
    const int id_column = schema_->GetFieldIndex("ListingId");
    // Row group by row group: the fixed-width columns (ListingId among them) straight from their
    // pages when their types allow (io/column_pages.h), the others through the Arrow reader.
    for (int g = 0; g < reader->metadata()->num_row_groups(); ++g) {
      INTRADAY_ASSIGN_OR_RAISE(auto pages, RowGroupPages::Open(request_.lake->fs(), file_.path,
                                                               file_.display_path, reader->metadata(), g));
      std::vector<std::unique_ptr<FixedColumnPages>> from_pages(static_cast<size_t>(schema_->num_fields()));
      std::vector<std::string> rest;
      for (int c = 0; c < schema_->num_fields(); ++c) {
        const auto& field = *schema_->field(c);
        if (pages != nullptr && FixedByteWidth(*field.type()) > 0) {
          INTRADAY_ASSIGN_OR_RAISE(from_pages[static_cast<size_t>(c)],
                                   pages->Column(field.name(), *field.type()));
        }
        if (from_pages[static_cast<size_t>(c)] == nullptr) rest.push_back(field.name());
      }
      if (id_column < 0 || from_pages[static_cast<size_t>(id_column)] == nullptr) {
        // A file on an object store, or a ListingId the pages reader does not offer: the same for
        // every row group of the file, which goes whole through the Arrow reader.
        if (g != 0) return Status::Invalid(file_.display_path, ": column types change between row groups");
        arrow_column_chunks_ += int64_t{schema_->num_fields()} * reader->metadata()->num_row_groups();
        INTRADAY_RETURN_NOT_OK(ShredThroughArrow(*reader, rows_read, rows_routed));
        break;
      }
      arrow_column_chunks_ += static_cast<int64_t>(rest.size());
      page_column_chunks_ += schema_->num_fields() - static_cast<int64_t>(rest.size());
      std::unique_ptr<TableFileReader> rest_reader;
      if (!rest.empty()) {
        TableReadOptions rest_options = options;
        rest_options.columns = rest;
        rest_options.row_groups = {g};
        rest_options.metadata = reader->metadata();
        INTRADAY_ASSIGN_OR_RAISE(rest_reader,
                                 TableFileReader::Open(request_.lake->fs(), file_.path, file_.display_path,
                                                       file_.table, rest_options));
      }
      const int64_t group_rows = pages->num_rows();
      for (int64_t first = 0; first < group_rows; first += options.batch_rows) {
        if (request_.stop_requested && request_.stop_requested()) {
          return Status::Cancelled("shredding of ", file_.display_path, " stopped");
        }
        const int64_t n = std::min(options.batch_rows, group_rows - first);
        *rows_read += n;
        std::shared_ptr<arrow::RecordBatch> rest_batch;
        if (rest_reader != nullptr) {
          INTRADAY_ASSIGN_OR_RAISE(rest_batch, rest_reader->Next());
          if (rest_batch == nullptr || rest_batch->num_rows() != n)
            return Status::Invalid(file_.display_path, ": rows change between reads");
        }
        INTRADAY_ASSIGN_OR_RAISE(auto routed, RouteFromPages(from_pages, id_column, n, rest_batch));
        INTRADAY_RETURN_NOT_OK(AppendRouted(routed.first, routed.second, rows_routed));
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
  /// What is left of `reader` routed read batch by read batch.
  Status ShredThroughArrow(TableFileReader& reader, int64_t* rows_read, int64_t* rows_routed) {
    while (true) {
      INTRADAY_ASSIGN_OR_RAISE(auto batch, reader.Next());
      if (batch == nullptr) return Status::OK();
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
      batch.reset();  // the routed copy replaces the batch as read
      INTRADAY_RETURN_NOT_OK(AppendRouted(*std::move(grouped), starts, rows_routed));
    }
  }

  /// The next `n` rows, routed as GroupRowsBySlot routes them: the columns of `from_pages` read
  /// 4 096 values at a time and placed at once, the others (`rest`, these rows of the other
  /// columns) regrouped.
  Result<std::pair<std::shared_ptr<arrow::RecordBatch>, std::vector<int64_t>>> RouteFromPages(
      const std::vector<std::unique_ptr<FixedColumnPages>>& from_pages, int id_column, int64_t n,
      const std::shared_ptr<arrow::RecordBatch>& rest) {
    constexpr int64_t kChunkRows = 4096;
    std::vector<uint8_t> chunk(static_cast<size_t>(kChunkRows * 8));
    std::vector<uint8_t> chunk_valid(static_cast<size_t>(kChunkRows));
    // Slots from ListingId (a null id has none), then every row's place.
    std::vector<int32_t> slot_of_row(static_cast<size_t>(n));
    std::vector<int64_t> ids(static_cast<size_t>(n));
    std::vector<uint8_t> id_valid(static_cast<size_t>(n), 1);
    for (int64_t done = 0; done < n;) {
      bool has_null = false;
      INTRADAY_ASSIGN_OR_RAISE(const int64_t got, from_pages[static_cast<size_t>(id_column)]->Next(
                                                      std::min(kChunkRows, n - done),
                                                      reinterpret_cast<uint8_t*>(ids.data() + done),
                                                      id_valid.data() + done, &has_null));
      if (got == 0) return Status::Invalid(file_.display_path, ": rows change between reads");
      if (!has_null) std::fill(id_valid.begin() + done, id_valid.begin() + done + got, 1);
      done += got;
    }
    for (int64_t i = 0; i < n; ++i)
      slot_of_row[static_cast<size_t>(i)] =
          id_valid[static_cast<size_t>(i)] ? slots_.slot_of.Find(ids[static_cast<size_t>(i)]) : -1;
    std::vector<int64_t> starts;
    std::vector<int64_t> place;
    PlaceRowsBySlot(std::span<const int32_t>(slot_of_row), slots_.slots, &starts, &place);
    const int64_t rows = starts.back();
    std::vector<std::shared_ptr<arrow::ArrayData>> out(static_cast<size_t>(schema_->num_fields()));
    for (int c = 0; c < schema_->num_fields(); ++c) {
      FixedColumnPages* column = from_pages[static_cast<size_t>(c)].get();
      if (column == nullptr) continue;
      const auto& type = schema_->field(c)->type();
      const int width = FixedByteWidth(*type);
      INTRADAY_ASSIGN_OR_RAISE(auto values, scatter_buffers_.Get(static_cast<size_t>(c), 1, rows * width));
      std::shared_ptr<arrow::Buffer> validity;
      int64_t nulls = 0;
      if (c == id_column) {
        PlaceFixedWidth(reinterpret_cast<const uint8_t*>(ids.data()), n, place.data(), width,
                        values->mutable_data());
      } else {
        for (int64_t done = 0; done < n;) {
          bool has_null = false;
          INTRADAY_ASSIGN_OR_RAISE(
              const int64_t got,
              column->Next(std::min(kChunkRows, n - done), chunk.data(), chunk_valid.data(), &has_null));
          if (got == 0) return Status::Invalid(file_.display_path, ": rows change between reads");
          const int64_t* row_place = place.data() + done;
          PlaceFixedWidth(chunk.data(), got, row_place, width, values->mutable_data());
          if (has_null) {
            if (validity == nullptr) {
              INTRADAY_ASSIGN_OR_RAISE(validity, scatter_buffers_.Get(static_cast<size_t>(c), 0,
                                                                      arrow::bit_util::BytesForBits(rows)));
              if (rows > 0)
                std::memset(validity->mutable_data(), 0xFF, static_cast<size_t>(validity->size()));
            }
            for (int64_t i = 0; i < got; ++i) {
              if (row_place[i] >= 0 && chunk_valid[static_cast<size_t>(i)] == 0) {
                arrow::bit_util::ClearBit(validity->mutable_data(), row_place[i]);
                ++nulls;
              }
            }
          }
          done += got;
        }
      }
      if (nulls == 0) validity = nullptr;
      out[static_cast<size_t>(c)] = arrow::ArrayData::Make(type, rows, {validity, values}, nulls);
    }
    if (rest != nullptr) {
      std::vector<int64_t> rest_starts;
      auto grouped = GroupRowsBySlots(*rest, slot_of_row, slots_.slots, &rest_starts, &rest_buffers_);
      if (!grouped.ok())
        return grouped.status().WithMessage(file_.display_path, ": ", grouped.status().message());
      for (int k = 0; k < (*grouped)->num_columns(); ++k) {
        const int c = schema_->GetFieldIndex((*grouped)->schema()->field(k)->name());
        if (c < 0) return Status::Invalid(file_.display_path, ": columns change between reads");
        out[static_cast<size_t>(c)] = (*grouped)->column_data(k);
      }
    }
    for (const auto& column : out) {
      if (column == nullptr) return Status::Invalid(file_.display_path, ": a column was not read");
    }
    return std::make_pair(arrow::RecordBatch::Make(schema_, rows, std::move(out)), std::move(starts));
  }

  /// Each plan batch's piece of `all` (routed rows, `starts` per route slot) appended to its
  /// spill file at once: nothing is held from one read batch to the next.
  Status AppendRouted(const std::shared_ptr<arrow::RecordBatch>& all, const std::vector<int64_t>& starts,
                      int64_t* rows_routed) {
    if (all->num_rows() == 0) return Status::OK();
    for (size_t b = 0; b < request_.plan->batches.size(); ++b) {
      const int64_t begin = starts[slots_.first_slot[b]], end = starts[slots_.first_slot[b + 1]];
      if (end == begin) continue;
      *rows_routed += end - begin;
      INTRADAY_RETURN_NOT_OK(Append(request_.plan->batches[b].id, *all->Slice(begin, end - begin)));
    }
    return Status::OK();
  }

  /// The routed copy's memory, written again by every read batch once the one before is
  /// written to the spill files and released.
  ScatterBuffers scatter_buffers_;
  ScatterBuffers rest_buffers_;  // of the columns routed through the Arrow reader
  int64_t page_column_chunks_ = 0;
  int64_t arrow_column_chunks_ = 0;
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
  std::atomic<int64_t> page_chunks{0};
  std::atomic<int64_t> arrow_chunks{0};
  auto work = [&] {
    while (!failed.load()) {
      const size_t k = next.fetch_add(1);
      if (k >= n_files) return;
      const size_t i = order[k];
      FileShredder shredder(request, slots, plan.files[i], per_thread_buffer);
      errors[i] = shredder.Run(&spills[i], &rows_read[i], &rows_routed[i]);
      page_chunks += shredder.page_column_chunks();
      arrow_chunks += shredder.arrow_column_chunks();
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
  result.page_column_chunks = page_chunks;
  result.arrow_column_chunks = arrow_chunks;
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
