#include "exec/batch_worker.h"
#include "exec/day_output.h"
#include "exec/memory_pages.h"
#include "exec/output_notice.h"
#include "exec/process.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>

#include <arrow/array.h>
#include <arrow/array/concatenate.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/memory_pool.h>
#include <arrow/table.h>
#include <arrow/util/bit_util.h>
#include <arrow/util/bitmap_generate.h>
#include <arrow/util/bitmap_ops.h>

#include "config/config_json.h"
#include "config/config_loader.h"
#include "exec/output_schema.h"
#include "exec/streamed_listing.h"
#include "io/arrow_compute.h"
#include "io/column_pages.h"
#include "io/group_rows.h"
#include "io/lake.h"
#include "io/listing_slots.h"
#include "io/table_reader.h"
#include "metrics/listing_day_computer.h"
#include "metrics/registry.h"
#include "plan/planner.h"

namespace intraday {
namespace {

Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> ReadSpill(const TaskInput& input,
                                                                   const Location& scratch) {
  std::shared_ptr<arrow::io::RandomAccessFile> file;
  if (scratch.is_s3()) {
    INTRADAY_ASSIGN_OR_RAISE(file, scratch.OpenInput(input.path));
  } else {
    // Mapped, not read: the batches point into the page cache, so the rows are neither copied
    // nor written to fresh (kernel-zeroed) memory before the gather copies them once.
    INTRADAY_ASSIGN_OR_RAISE(file, arrow::io::MemoryMappedFile::Open(input.path, arrow::io::FileMode::READ));
  }
  auto reader = arrow::ipc::RecordBatchFileReader::Open(file);
  if (!reader.ok()) return reader.status().WithMessage(input.display_path, ": ", reader.status().message());
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  for (int i = 0; i < (*reader)->num_record_batches(); ++i) {
    INTRADAY_ASSIGN_OR_RAISE(auto batch, (*reader)->ReadRecordBatch(i));
    batches.push_back(std::move(batch));
  }
  return batches;
}

/// Runs fn(0) .. fn(n - 1) on up to `threads` threads; the first error wins.
Status ParallelFor(size_t n, int threads, const std::function<Status(size_t)>& fn) {
  const size_t workers = std::min(n, static_cast<size_t>(std::max(1, threads)));
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) INTRADAY_RETURN_NOT_OK(fn(i));
    return Status::OK();
  }
  std::vector<Status> status(n);
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) status[i] = fn(i);
    });
  }
  for (auto& t : pool) t.join();
  for (const auto& st : status) INTRADAY_RETURN_NOT_OK(st);
  return Status::OK();
}

/// The order that sorts rows by (ListingId, event time), ties keeping input order; empty when
/// the rows are already in that order (files clustered by listing). Vendor files are usually in
/// time order across listings: a stable counting sort by listing then puts each listing's rows
/// in time order without comparing times at all, and only listings whose rows are not in time
/// order get sorted.
std::vector<int64_t> SortOrder(const int64_t* ids, const int64_t* times, int64_t n) {
  bool sorted = true;
  for (int64_t i = 1; i < n && sorted; ++i) {
    sorted = ids[i - 1] < ids[i] || (ids[i - 1] == ids[i] && times[i - 1] <= times[i]);
  }
  if (sorted) return {};
  // Rows of one listing come in runs in spill files (grouped by the shredder): look an id up
  // only when it changes.
  std::unordered_map<int64_t, size_t> rank;
  for (int64_t i = 0; i < n; ++i) {
    if (i == 0 || ids[i] != ids[i - 1]) rank.try_emplace(ids[i], 0);
  }
  std::vector<int64_t> distinct;
  distinct.reserve(rank.size());
  for (const auto& [id, r] : rank) distinct.push_back(id);
  std::sort(distinct.begin(), distinct.end());
  for (size_t r = 0; r < distinct.size(); ++r) rank[distinct[r]] = r;
  std::vector<int64_t> offsets(distinct.size() + 1, 0);
  std::vector<uint32_t> row_rank(static_cast<size_t>(n));
  uint32_t current = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (i == 0 || ids[i] != ids[i - 1]) current = static_cast<uint32_t>(rank.at(ids[i]));
    row_rank[static_cast<size_t>(i)] = current;
    ++offsets[current + 1];
  }
  for (size_t r = 1; r < offsets.size(); ++r) offsets[r] += offsets[r - 1];
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::vector<int64_t> fill(offsets.begin(), offsets.end() - 1);
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(fill[row_rank[static_cast<size_t>(i)]]++)] = i;
  for (size_t r = 0; r + 1 < offsets.size(); ++r) {
    const auto begin = order.begin() + offsets[r], end = order.begin() + offsets[r + 1];
    const bool in_time_order =
        std::is_sorted(begin, end, [&](int64_t a, int64_t b) { return times[a] < times[b]; });
    if (!in_time_order) {
      std::stable_sort(begin, end, [&](int64_t a, int64_t b) { return times[a] < times[b]; });
    }
  }
  return order;
}

/// Where a listing's rows are: rows [row, row + length) of read batch `batch`.
struct Run {
  uint32_t batch;
  uint32_t length;
  int64_t row;
};

/// One table's rows for the batch as read (spill batches mapped from the page cache, or Parquet
/// decoded and filtered to the batch's listings), and where each listing's rows are in them, in
/// (time, input order) order. Listings are gathered one at a time, when they are computed
/// (ListingGatherer): the worker never holds a second, sorted copy of its input.
struct TableRows {
  Table table;
  std::shared_ptr<arrow::Schema> schema;  // nullptr if no input file had rows
  int time_column = -1;
  std::vector<std::vector<std::shared_ptr<arrow::ArrayData>>> columns;  // [column][read batch]
  std::vector<int64_t> batch_starts;  // first row of each read batch in the sequence of all
  std::vector<Run> runs;              // every listing's runs, listing by listing
  std::vector<size_t> first_run;      // per task listing, its first run; then runs.size()
  std::vector<int64_t> rows;          // per task listing, its rows
};

template <typename T>
void GatherValues(const std::vector<const uint8_t*>& bases, std::span<const Run> runs, uint8_t* dst) {
  T* out = reinterpret_cast<T*>(dst);
  for (const Run& run : runs) {
    const T* src = reinterpret_cast<const T*>(bases[run.batch]) + run.row;
    if (run.length == 1) {
      *out = *src;
    } else {
      std::memcpy(out, src, run.length * sizeof(T));
    }
    out += run.length;
  }
}

/// Gathers listings' rows of one table into buffers it keeps from listing to listing (a listing
/// of one run is a view instead). A new process's memory costs the kernel a page fault and a page
/// zeroing at first touch, so the buffers are sized once for the table's largest listing of
/// several runs and never zeroed: a page is touched
/// first by the copy into it, and only where some listing's rows reach. A gathered listing's
/// arrays point into these buffers and stay valid until the next Gather.
class ListingGatherer {
 public:
  explicit ListingGatherer(const TableRows& rows) : rows_(rows), buffers_(rows.columns.size()) {
    // Listings of one run are views (Gather), never copied: only the others need the buffers.
    int64_t most_rows = 0;
    for (size_t l = 0; l < rows.rows.size(); ++l) {
      if (rows.first_run[l + 1] - rows.first_run[l] > 1) most_rows = std::max(most_rows, rows.rows[l]);
    }
    for (size_t c = 0; c < rows.columns.size(); ++c) {
      const auto& chunks = rows.columns[c];
      std::vector<const uint8_t*> bases;
      const auto* fixed = dynamic_cast<const arrow::FixedWidthType*>(chunks.front()->type.get());
      const int width = fixed != nullptr ? fixed->bit_width() / 8 : 0;
      for (const auto& d : chunks) {
        bases.push_back(width > 0 && d->buffers.size() > 1 && d->buffers[1] != nullptr
                            ? d->buffers[1]->data() + d->offset * width
                            : nullptr);
      }
      bases_.push_back(std::move(bases));
      may_have_nulls_.push_back(
          std::any_of(chunks.begin(), chunks.end(), [](const auto& d) { return d->MayHaveNulls(); }));
      const int64_t bitmap_bytes = arrow::bit_util::BytesForBits(most_rows);
      if (may_have_nulls_.back()) buffers_[c].validity.planned = bitmap_bytes;
      const arrow::Type::type id = chunks.front()->type->id();
      buffers_[c].values.planned = id == arrow::Type::STRING ? (most_rows + 1) * 4
                                   : id == arrow::Type::BOOL ? bitmap_bytes
                                                             : most_rows * width;
    }
  }

  /// The rows of task listing `listing` (rows.rows[listing] > 0).
  Result<std::shared_ptr<arrow::RecordBatch>> Gather(size_t listing) {
    const std::span<const Run> runs(rows_.runs.data() + rows_.first_run[listing],
                                    rows_.first_run[listing + 1] - rows_.first_run[listing]);
    const int64_t n = rows_.rows[listing];
    std::vector<std::shared_ptr<arrow::ArrayData>> columns(rows_.columns.size());
    if (runs.size() == 1) {
      // All its rows are consecutive in one read batch (a direct read's grouped table, or a small
      // spill file): a view of them, no copy.
      for (size_t c = 0; c < columns.size(); ++c) {
        columns[c] = rows_.columns[c][runs[0].batch]->Slice(runs[0].row, runs[0].length);
      }
      return arrow::RecordBatch::Make(rows_.schema, n, std::move(columns));
    }
    for (size_t c = 0; c < columns.size(); ++c) {
      INTRADAY_ASSIGN_OR_RAISE(columns[c], GatherColumn(c, runs, n));
    }
    return arrow::RecordBatch::Make(rows_.schema, n, std::move(columns));
  }

 private:
  /// Memory that is never zeroed (see the class comment).
  struct RawBuffer {
    std::shared_ptr<arrow::Buffer> memory;
    int64_t planned = 0;  // the size of its first allocation: enough for the largest listing
  };
  struct Buffers {
    RawBuffer validity, values, chars;
  };

  /// At least `bytes` of `b`, allocated at the first use (for the largest listing, `planned`).
  /// Only the characters of strings grow after that, by half again at least; growing frees the
  /// old buffer first (its contents are not needed): never two at once.
  static Result<uint8_t*> Reserve(RawBuffer& b, int64_t bytes) {
    const int64_t size = b.memory != nullptr ? b.memory->size() : 0;
    if (b.memory == nullptr || size < bytes) {
      b.memory.reset();
      INTRADAY_ASSIGN_OR_RAISE(b.memory, AllocateFilledBuffer(std::max({bytes, b.planned, size + size / 2})));
    }
    return b.memory->mutable_data();
  }
  static std::shared_ptr<arrow::Buffer> View(const uint8_t* data, int64_t bytes) {
    return std::make_shared<arrow::Buffer>(data, bytes);
  }

  Result<std::shared_ptr<arrow::ArrayData>> GatherColumn(size_t c, std::span<const Run> runs, int64_t n) {
    const auto& chunks = rows_.columns[c];
    const auto& type = chunks.front()->type;
    Buffers& buffers = buffers_[c];
    // Copies bitmap bits (validity or boolean values) run by run.
    auto gather_bits = [&](int buffer, uint8_t* bits) {
      int64_t out = 0;
      for (const Run& run : runs) {
        const arrow::ArrayData& d = *chunks[run.batch];
        if (d.buffers[buffer] == nullptr) {
          arrow::bit_util::SetBitsTo(bits, out, run.length, true);
        } else if (run.length == 1) {
          arrow::bit_util::SetBitTo(bits, out,
                                    arrow::bit_util::GetBit(d.buffers[buffer]->data(), d.offset + run.row));
        } else {
          arrow::internal::CopyBitmap(d.buffers[buffer]->data(), d.offset + run.row, run.length, bits, out);
        }
        out += run.length;
      }
    };
    std::shared_ptr<arrow::Buffer> validity;
    int64_t null_count = 0;
    if (may_have_nulls_[c]) {
      const int64_t bytes = arrow::bit_util::BytesForBits(n);
      INTRADAY_ASSIGN_OR_RAISE(uint8_t * bits, Reserve(buffers.validity, bytes));
      gather_bits(0, bits);
      null_count = n - arrow::internal::CountSetBits(bits, 0, n);
      if (null_count > 0) validity = View(bits, bytes);
    }
    const arrow::Type::type id = type->id();
    if (id == arrow::Type::STRING) {
      INTRADAY_ASSIGN_OR_RAISE(uint8_t * offset_bytes, Reserve(buffers.values, (n + 1) * 4));
      auto* offsets = reinterpret_cast<int32_t*>(offset_bytes);
      int64_t total = 0, out = 0;
      offsets[0] = 0;
      for (const Run& run : runs) {
        const int32_t* o = chunks[run.batch]->GetValues<int32_t>(1) + run.row;
        for (uint32_t j = 0; j < run.length; ++j) {
          total += o[j + 1] - o[j];
          if (total > INT32_MAX) return Status::CapacityError("string column over 2 GiB for one listing");
          offsets[++out] = static_cast<int32_t>(total);
        }
      }
      INTRADAY_ASSIGN_OR_RAISE(uint8_t * chars, Reserve(buffers.chars, total));
      uint8_t* dst = chars;
      for (const Run& run : runs) {
        const arrow::ArrayData& d = *chunks[run.batch];
        const int32_t* o = d.GetValues<int32_t>(1) + run.row;
        const int32_t bytes = o[run.length] - o[0];
        if (bytes > 0) std::memcpy(dst, d.buffers[2]->data() + o[0], static_cast<size_t>(bytes));
        dst += bytes;
      }
      return arrow::ArrayData::Make(
          type, n, {validity, View(reinterpret_cast<uint8_t*>(offsets), (n + 1) * 4), View(chars, total)},
          null_count);
    }
    if (id == arrow::Type::BOOL) {
      const int64_t bytes = arrow::bit_util::BytesForBits(n);
      INTRADAY_ASSIGN_OR_RAISE(uint8_t * bits, Reserve(buffers.values, bytes));
      gather_bits(1, bits);
      return arrow::ArrayData::Make(type, n, {validity, View(bits, bytes)}, null_count);
    }
    const int width = static_cast<const arrow::FixedWidthType&>(*type).bit_width() / 8;
    INTRADAY_ASSIGN_OR_RAISE(uint8_t * dst, Reserve(buffers.values, n * width));
    const auto& bases = bases_[c];
    switch (width) {
      case 8: GatherValues<uint64_t>(bases, runs, dst); break;
      case 4: GatherValues<uint32_t>(bases, runs, dst); break;
      case 2: GatherValues<uint16_t>(bases, runs, dst); break;
      case 1: GatherValues<uint8_t>(bases, runs, dst); break;
      // Every batch here was regrouped by GroupRowsBySlot (io/group_rows), which takes no other width.
      default: return Status::Invalid("cannot gather a column of type ", type->ToString());
    }
    return arrow::ArrayData::Make(type, n, {validity, View(dst, n * width)}, null_count);
  }

  const TableRows& rows_;
  std::vector<Buffers> buffers_;
  std::vector<std::vector<const uint8_t*>> bases_;  // per column, per read batch: its first value
  std::vector<bool> may_have_nulls_;                // per column: in some read batch
};

/// Every listing's runs, from a sort of all rows by (ListingId, time): the general case, for rows
/// whose listings are not each in time order batch after batch (RunsOfSortedListings).
Status RunsBySorting(const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches, int id_column,
                     int time_column, const Task& task, int64_t n, TableRows* rows) {
  TableRows& out = *rows;
  out.runs.clear();
  out.first_run.assign(task.listings.size() + 1, 0);
  out.rows.assign(task.listings.size(), 0);
  std::vector<int64_t> ids, times;
  ids.reserve(static_cast<size_t>(n));
  times.reserve(static_cast<size_t>(n));
  for (const auto& b : batches) {
    const auto* id = b->column_data(id_column)->GetValues<int64_t>(1);
    const auto* t = b->column_data(time_column)->GetValues<int64_t>(1);
    ids.insert(ids.end(), id, id + b->num_rows());
    times.insert(times.end(), t, t + b->num_rows());
  }
  const std::vector<int64_t> order = SortOrder(ids.data(), times.data(), n);
  times = {};
  // Runs of consecutive rows of one read batch and one listing, listing by listing; the task's
  // listings are sorted, like the order.
  size_t listing = 0, b = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t global = order.empty() ? i : order[static_cast<size_t>(i)];
    const int64_t id = ids[static_cast<size_t>(global)];
    if (listing == task.listings.size() || task.listings[listing] != id) {
      while (listing < task.listings.size() && task.listings[listing] < id)
        out.first_run[++listing] = out.runs.size();
      if (listing == task.listings.size() || task.listings[listing] != id)
        return Status::Invalid("table ", SpecOf(out.table).key, ": ListingId ", id, " is not in the batch");
    }
    ++out.rows[listing];
    Run* last = out.runs.size() > out.first_run[listing] ? &out.runs.back() : nullptr;
    if (last != nullptr && global == out.batch_starts[b] + last->row + last->length &&
        global < out.batch_starts[b + 1] && last->length < UINT32_MAX) {
      ++last->length;
      continue;
    }
    if (global < out.batch_starts[b] || global >= out.batch_starts[b + 1]) {
      b = static_cast<size_t>(std::upper_bound(out.batch_starts.begin(), out.batch_starts.end(), global) -
                              out.batch_starts.begin() - 1);
    }
    out.runs.push_back({static_cast<uint32_t>(b), 1, global - out.batch_starts[b]});
  }
  while (listing < task.listings.size()) out.first_run[++listing] = out.runs.size();
  return Status::OK();
}

/// The mapped spill inputs of a batch, let go of as its listings are done. A page of a mapping
/// counts in the worker's RSS from the first gather that reads it until the batch ends, so by the
/// last listing the whole input would be resident beside the listings' copies and the output
/// (a spill reader of a shredded 200-listing day peaked at 756 MiB, 490 MiB of it mapped). The
/// shredder groups each read batch by listing, in the task's listing order, and chunks of listings
/// are computed in that order: once every listing before L is done, the rows before L's in every
/// read batch are read no more, and their pages are dropped (DropFilePages) each time another
/// `step_rows` input rows are behind. Thread-safe; a no-op for a batch of one listing.
class MappedInputRelease {
 public:
  MappedInputRelease(const std::vector<TableRows>& tables, const std::vector<size_t>& chunk_begin,
                     int64_t step_rows)
      : tables_(tables), chunk_begin_(chunk_begin), step_rows_(step_rows), done_(chunk_begin.size() - 1, 0) {
    for (const TableRows& t : tables_) {
      done_end_.emplace_back(t.batch_starts.empty() ? 0 : t.batch_starts.size() - 1, 0);
      dropped_end_.emplace_back(done_end_.back().size(), 0);
    }
  }

  int64_t released_bytes() const { return released_bytes_; }

  /// Listing `l` of chunk `c` is done (a chunk's listings are done in order).
  void ListingDone(size_t c, size_t l) {
    std::lock_guard lock(mutex_);
    ++done_[c];
    for (const TableRows& t : tables_) pending_rows_ += l < t.rows.size() ? t.rows[l] : 0;
    while (chunk_ < done_.size() && done_[chunk_] == chunk_begin_[chunk_ + 1] - chunk_begin_[chunk_])
      ++chunk_;
    const size_t frontier =
        chunk_ < done_.size() ? chunk_begin_[chunk_] + done_[chunk_] : chunk_begin_.back();
    if (pending_rows_ < step_rows_ || frontier <= released_) return;
    Release(frontier);
    pending_rows_ = 0;
  }

 private:
  /// Drops the rows of listings [released_, frontier) in every read batch.
  void Release(size_t frontier) {
    for (size_t t = 0; t < tables_.size(); ++t) {
      const TableRows& table = tables_[t];
      if (table.columns.empty() || table.first_run.size() <= frontier) continue;
      for (size_t r = table.first_run[released_]; r < table.first_run[frontier]; ++r) {
        const Run& run = table.runs[r];
        done_end_[t][run.batch] = std::max(done_end_[t][run.batch], run.row + run.length);
      }
      for (size_t b = 0; b < done_end_[t].size(); ++b) {
        // Few calls, each of many pages: every call interrupts the batch's other threads (their
        // page tables change), which for a few pages costs more than the pages' memory is worth.
        if (done_end_[t][b] - dropped_end_[t][b] < kMinDropRows) continue;
        for (const auto& column : table.columns) DropRows(*column[b], dropped_end_[t][b], done_end_[t][b]);
        dropped_end_[t][b] = done_end_[t][b];
      }
    }
    released_ = frontier;
  }

  /// The bytes of rows [begin, end) of an array, in each of its buffers.
  void DropRows(const arrow::ArrayData& a, int64_t begin, int64_t end) {
    begin += a.offset;
    end += a.offset;
    auto drop = [&](const uint8_t* from, const uint8_t* to) { released_bytes_ += DropFilePages(from, to); };
    auto bits = [&](const std::shared_ptr<arrow::Buffer>& buffer) {
      if (buffer != nullptr) drop(buffer->data() + begin / 8, buffer->data() + end / 8);
    };
    bits(a.buffers[0]);
    const arrow::DataType& type = *a.type;
    if (type.id() == arrow::Type::BOOL) {
      bits(a.buffers[1]);
    } else if (type.id() == arrow::Type::STRING || type.id() == arrow::Type::BINARY) {
      const auto* offsets = reinterpret_cast<const int32_t*>(a.buffers[1]->data());
      drop(a.buffers[1]->data() + begin * 4, a.buffers[1]->data() + end * 4);
      if (a.buffers[2] != nullptr)
        drop(a.buffers[2]->data() + offsets[begin], a.buffers[2]->data() + offsets[end]);
    } else if (const auto* fixed = dynamic_cast<const arrow::FixedWidthType*>(&type);
               fixed != nullptr && fixed->bit_width() % 8 == 0 && a.buffers[1] != nullptr) {
      const int64_t width = fixed->bit_width() / 8;
      drop(a.buffers[1]->data() + begin * width, a.buffers[1]->data() + end * width);
    }
  }

  static constexpr int64_t kMinDropRows = 2048;
  const std::vector<TableRows>& tables_;
  const std::vector<size_t>& chunk_begin_;
  const int64_t step_rows_;
  std::mutex mutex_;
  std::vector<size_t> done_;  // per chunk, its listings done
  size_t chunk_ = 0;          // the first chunk not done
  size_t released_ = 0;       // listings before it are dropped
  int64_t pending_rows_ = 0;  // input rows of listings done since the last drop
  int64_t released_bytes_ = 0;
  std::vector<std::vector<int64_t>> done_end_;     // [table][read batch]: rows of done listings end here
  std::vector<std::vector<int64_t>> dropped_end_;  // [table][read batch]: rows dropped up to here
};

/// Every listing's runs straight from the read batches (grouped by listing, io/group_rows: one
/// run per listing and batch), when every listing's rows are in time order batch after batch,
/// as they are in time-ordered vendor files. No row is copied or sorted: the runs are ordered by listing (a
/// stable counting sort of the runs, so equal times keep their input order). Returns false when some
/// listing's rows are out of time order; the caller then sorts.
Result<bool> RunsOfSortedListings(const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
                                  int id_column, int time_column, const Task& task,
                                  const ListingSlots& slot_of, TableRows* rows) {
  TableRows& out = *rows;
  struct SlotRun {
    int32_t slot;
    Run run;
  };
  std::vector<SlotRun> found;
  std::vector<size_t> runs_of(task.listings.size() + 1, 0);
  for (size_t b = 0; b < batches.size(); ++b) {
    const auto* ids = batches[b]->column_data(id_column)->GetValues<int64_t>(1);
    const auto* times = batches[b]->column_data(time_column)->GetValues<int64_t>(1);
    const int64_t length = batches[b]->num_rows();
    for (int64_t i = 0; i < length;) {
      int64_t j = i + 1;
      while (j < length && ids[j] == ids[i]) {
        if (times[j] < times[j - 1]) return false;
        ++j;
      }
      const int32_t slot = slot_of.Find(ids[i]);
      if (slot < 0)
        return Status::Invalid("table ", SpecOf(out.table).key, ": ListingId ", ids[i],
                               " is not in the batch");
      if (j - i > UINT32_MAX) return false;
      found.push_back({slot, {static_cast<uint32_t>(b), static_cast<uint32_t>(j - i), i}});
      ++runs_of[static_cast<size_t>(slot) + 1];
      i = j;
    }
  }
  for (size_t l = 1; l < runs_of.size(); ++l) runs_of[l] += runs_of[l - 1];
  out.first_run.assign(runs_of.begin(), runs_of.end());
  out.runs.resize(found.size());
  for (const SlotRun& f : found) {
    out.runs[runs_of[static_cast<size_t>(f.slot)]++] = f.run;
    out.rows[static_cast<size_t>(f.slot)] += f.run.length;
  }
  for (size_t l = 0; l < task.listings.size(); ++l) {
    for (size_t r = out.first_run[l] + 1; r < out.first_run[l + 1]; ++r) {
      const Run& before = out.runs[r - 1];
      const Run& after = out.runs[r];
      const int64_t last = batches[before.batch]
                               ->column_data(time_column)
                               ->GetValues<int64_t>(1)[before.row + before.length - 1];
      const int64_t first = batches[after.batch]->column_data(time_column)->GetValues<int64_t>(1)[after.row];
      if (first < last) return false;
    }
  }
  return true;
}

/// A part of a table's input that one thread reads on its own: a spill file, or one row group
/// of a lake file (a direct read of a day that fits one worker reads its files with every core).
/// A task reads spill files only (shredded days) or lake files only.
struct InputPiece {
  size_t table = 0;  // index into the pass's tables
  const TaskInput* input = nullptr;
  int row_group = -1;  // lake files
  int weight = 0;      // columns read: wider pieces are started first
  // Lake files: the footer, read once per file and shared by every reader of its row groups,
  // and the columns as the table reader hands them out.
  std::shared_ptr<parquet::FileMetaData> metadata;
  std::shared_ptr<arrow::Schema> schema;
};

/// The task's inputs as pieces, in each table's input order (the order their rows are used in).
Result<std::vector<InputPiece>> SplitInputs(const Lake& lake, const std::vector<TableColumns>& columns,
                                            const Task& task) {
  std::vector<InputPiece> pieces;
  for (size_t t = 0; t < columns.size(); ++t) {
    const int weight = static_cast<int>(columns[t].columns.size());
    for (const auto& input : task.inputs) {
      if (input.table != columns[t].table) continue;
      if (input.spill) {
        pieces.push_back({t, &input, -1, weight, nullptr, nullptr});
        continue;
      }
      TableReadOptions options;
      options.columns = columns[t].columns;
      INTRADAY_ASSIGN_OR_RAISE(auto reader, TableFileReader::Open(lake.fs(), input.path, input.display_path,
                                                                  columns[t].table, options));
      std::vector<int> row_groups = input.row_groups;
      if (row_groups.empty()) {
        for (int g = 0; g < reader->metadata()->num_row_groups(); ++g) row_groups.push_back(g);
      }
      for (int g : row_groups) pieces.push_back({t, &input, g, weight, reader->metadata(), reader->schema()});
    }
  }
  return pieces;
}

/// Rows per decoded batch when a piece is read whole. What the Parquet reader holds per thread
/// (values and levels of every column read) grows with it: 64K rows of the 53 book columns kept
/// ~70 MiB more per worker than 16K rows, at the same speed (docs/benchmarks.md, "Session 7").
constexpr int64_t kPieceBatchRows = 16 * 1024;

/// A reader of `columns` of a lake piece's row group (the file's footer is not read again).
Result<std::unique_ptr<TableFileReader>> OpenPiece(const Lake& lake, const InputPiece& piece, Table table,
                                                   std::vector<std::string> columns,
                                                   int64_t batch_rows = TableReadOptions().batch_rows) {
  TableReadOptions options;
  options.columns = std::move(columns);
  options.batch_rows = batch_rows;
  options.row_groups = {piece.row_group};
  options.metadata = piece.metadata;
  return TableFileReader::Open(lake.fs(), piece.input->path, piece.input->display_path, table, options);
}

/// A direct read of lake files (no spill file): each table's rows as one batch in which every
/// listing's rows are contiguous, in ListingId order and in input order within a listing, so
/// that a listing is a view of it (ListingGatherer) rather than a copy. The pieces are read
/// twice: their ListingId column first (how many rows each listing has in each piece, hence
/// every row's place), then whole, in parallel, each row of a fixed-width column written
/// straight to its place (validity as a byte per row, allocated at a column's first null and
/// packed at the end: bytes written by two threads never share a byte). String and boolean
/// columns, small, are grouped per piece and concatenated listing by listing. ListingId is not
/// placed: every listing's block is known (PlacedTable::listing_start).
struct PlacedTable {
  std::shared_ptr<arrow::RecordBatch> batch;  // without ListingId; null if the table had no input
  std::vector<int64_t> listing_start;         // per task listing, its first row; then the rows
  bool in_time_order = false;  // every listing's rows in time order (sorted in place if need be)
};

Result<std::vector<PlacedTable>> ReadTablesGrouped(const Lake& lake, const std::vector<TableColumns>& columns,
                                                   const std::vector<InputPiece>& pieces,
                                                   const std::vector<size_t>& order, const Task& task,
                                                   const ListingSlots& slot_of, int64_t* input_rows,
                                                   int64_t* sorted_blocks, int64_t* page_column_chunks,
                                                   int64_t* arrow_column_chunks) {
  const size_t slots = task.listings.size();
  // 1. Rows per listing and piece.
  std::vector<std::vector<int64_t>> counts(pieces.size(), std::vector<int64_t>(slots, 0));
  std::vector<int64_t> rows_read(pieces.size(), 0);
  // Every row's slot, kept for step 4, which then neither decodes ListingId again nor looks it up.
  std::vector<std::vector<int32_t>> row_slots(pieces.size());
  INTRADAY_RETURN_NOT_OK(ParallelFor(pieces.size(), task.threads, [&](size_t k) -> Status {
    const size_t p = order[k];
    INTRADAY_ASSIGN_OR_RAISE(auto reader,
                             OpenPiece(lake, pieces[p], columns[pieces[p].table].table, {"ListingId"}));
    std::vector<int32_t> slot;
    while (true) {
      INTRADAY_ASSIGN_OR_RAISE(auto batch, reader->Next());
      if (batch == nullptr) break;
      rows_read[p] += batch->num_rows();
      SlotsOfRows(*batch->column_data(batch->schema()->GetFieldIndex("ListingId")), slot_of, &slot);
      for (int32_t s : slot) {
        if (s >= 0) ++counts[p][static_cast<size_t>(s)];
      }
      row_slots[p].insert(row_slots[p].end(), slot.begin(), slot.end());
    }
    return Status::OK();
  }));
  for (int64_t rows : rows_read) *input_rows += rows;

  // 2. Where each listing starts in its table, and each piece's first place per listing.
  std::vector<int64_t> total(columns.size(), 0);
  std::vector<std::vector<int64_t>> offset(pieces.size());
  std::vector<std::vector<int64_t>> listing_start(columns.size());  // per table, per listing
  for (size_t t = 0; t < columns.size(); ++t) {
    std::vector<int64_t> next(slots, 0);  // per listing, its first place not yet given
    int64_t start = 0;
    for (size_t s = 0; s < slots; ++s) {
      next[s] = start;
      for (size_t p = 0; p < pieces.size(); ++p) {
        if (pieces[p].table == t) start += counts[p][s];
      }
    }
    total[t] = start;
    listing_start[t] = next;
    for (size_t p = 0; p < pieces.size(); ++p) {
      if (pieces[p].table != t) continue;
      offset[p] = next;
      for (size_t s = 0; s < slots; ++s) next[s] += counts[p][s];
    }
  }

  // 3. Each table's schema (the first piece's), and a destination per fixed-width column.
  struct Destination {
    std::shared_ptr<arrow::Schema> schema;
    std::vector<int> width;                              // per column; 0: grouped per piece
    std::vector<std::shared_ptr<arrow::Buffer>> values;  // per fixed-width column
    std::vector<std::unique_ptr<uint8_t[]>> valid;       // per column: a byte per row, or none
    std::mutex valid_mutex;
    int id_column = -1;  // ListingId: read in step 1, not placed
  };
  std::vector<Destination> dest(columns.size());
  for (size_t t = 0; t < columns.size(); ++t) {
    const auto first =
        std::find_if(pieces.begin(), pieces.end(), [&](const InputPiece& p) { return p.table == t; });
    if (first == pieces.end() || total[t] == 0) continue;
    Destination& d = dest[t];
    d.schema = first->schema;
    const int n_columns = d.schema->num_fields();
    d.width.assign(static_cast<size_t>(n_columns), 0);
    d.values.resize(static_cast<size_t>(n_columns));
    d.valid.resize(static_cast<size_t>(n_columns));
    // The table's fixed-width columns share one block (AllocateFilledBuffer: huge pages but
    // for its last one), each column at an offset aligned for SIMD reads.
    std::vector<int64_t> at(static_cast<size_t>(n_columns), 0);
    int64_t block_bytes = 0;
    d.id_column = d.schema->GetFieldIndex("ListingId");
    for (int c = 0; c < n_columns; ++c) {
      if (c == d.id_column) continue;
      const int width = FixedByteWidth(*d.schema->field(c)->type());
      if (width == 0) continue;
      d.width[static_cast<size_t>(c)] = width;
      at[static_cast<size_t>(c)] = block_bytes;
      block_bytes += arrow::bit_util::RoundUpToMultipleOf64(total[t] * width);
    }
    INTRADAY_ASSIGN_OR_RAISE(auto block, AllocateFilledBuffer(block_bytes));
    for (int c = 0; c < n_columns; ++c) {
      const auto i = static_cast<size_t>(c);
      if (d.width[i] > 0) d.values[i] = arrow::SliceMutableBuffer(block, at[i], total[t] * d.width[i]);
    }
  }

  // 4. Every piece, whole but for ListingId (its rows' slots are known): fixed-width values to
  // their places, the other columns grouped.
  struct Grouped {
    std::shared_ptr<arrow::RecordBatch> batch;  // the columns of width 0
    std::vector<int64_t> starts;                // per slot, then its rows
  };
  std::vector<std::vector<Grouped>> grouped(pieces.size());
  std::atomic<int64_t> page_chunks{0};
  std::atomic<int64_t> arrow_chunks{0};
  INTRADAY_RETURN_NOT_OK(ParallelFor(pieces.size(), task.threads, [&](size_t k) -> Status {
    const size_t p = order[k];
    const size_t t = pieces[p].table;
    Destination& d = dest[t];
    if (d.schema == nullptr) return Status::OK();
    const std::vector<int32_t>& piece_slots = row_slots[p];
    auto columns_change = [&] {
      return Status::Invalid("table ", SpecOf(columns[t].table).key, ": ", pieces[p].input->display_path,
                             ": columns change between input files");
    };
    // Every row's place, once for all its columns.
    std::vector<int64_t> place(piece_slots.size());
    {
      std::vector<int64_t> next = offset[p];
      for (size_t i = 0; i < place.size(); ++i)
        place[i] = piece_slots[i] < 0 ? -1 : next[static_cast<size_t>(piece_slots[i])]++;
    }
    auto mark_nulls = [&](size_t cc, const int64_t* row_place, int64_t n, auto is_null) {
      {
        std::lock_guard lock(d.valid_mutex);
        if (d.valid[cc] == nullptr) {
          d.valid[cc] = std::make_unique_for_overwrite<uint8_t[]>(static_cast<size_t>(total[t]));
          std::memset(d.valid[cc].get(), 1, static_cast<size_t>(total[t]));
        }
      }
      uint8_t* valid = d.valid[cc].get();
      for (int64_t i = 0; i < n; ++i) {
        if (row_place[i] >= 0 && is_null(i)) valid[row_place[i]] = 0;
      }
    };
    // Fixed-width columns of a local file straight from their pages where their Parquet type
    // allows (io/column_pages.h), a cache-sized chunk at a time; the others through the Arrow
    // reader, as every column of a file on an object store.
    INTRADAY_ASSIGN_OR_RAISE(
        auto pages, RowGroupPages::Open(lake.fs(), pieces[p].input->path, pieces[p].input->display_path,
                                        pieces[p].metadata, pieces[p].row_group));
    std::vector<std::string> read;  // through the Arrow reader
    size_t direct = 0;
    constexpr int64_t kChunkRows = 4096;
    std::vector<uint8_t> chunk_values;
    std::vector<uint8_t> chunk_valid(kChunkRows);
    for (const auto& name : columns[t].columns) {
      if (name == "ListingId") continue;
      const int i = d.schema->GetFieldIndex(name);
      const int own = pieces[p].schema->GetFieldIndex(name);
      if (i < 0 || own < 0 || !pieces[p].schema->field(own)->type()->Equals(*d.schema->field(i)->type()))
        return columns_change();
      const auto cc = static_cast<size_t>(i);
      const int width = d.width[cc];
      std::unique_ptr<FixedColumnPages> column;
      if (pages != nullptr && width > 0) {
        INTRADAY_ASSIGN_OR_RAISE(column, pages->Column(name, *d.schema->field(i)->type()));
      }
      if (column == nullptr) {
        read.push_back(name);
        continue;
      }
      ++direct;
      chunk_values.resize(static_cast<size_t>(kChunkRows * width));
      uint8_t* out = d.values[cc]->mutable_data();
      int64_t row = 0;
      while (true) {
        bool has_null = false;
        INTRADAY_ASSIGN_OR_RAISE(
            const int64_t n, column->Next(kChunkRows, chunk_values.data(), chunk_valid.data(), &has_null));
        if (n == 0) break;
        if (row + n > static_cast<int64_t>(place.size()))
          return Status::Invalid(pieces[p].input->display_path, ": rows change between reads");
        const int64_t* row_place = place.data() + row;
        PlaceFixedWidth(chunk_values.data(), n, row_place, width, out);
        if (has_null)
          mark_nulls(cc, row_place, n, [&](int64_t r) { return chunk_valid[static_cast<size_t>(r)] == 0; });
        row += n;
      }
      if (row != static_cast<int64_t>(place.size()))
        return Status::Invalid(pieces[p].input->display_path, ": rows change between reads");
    }
    if (direct + read.size() + 1 != static_cast<size_t>(d.schema->num_fields())) return columns_change();
    page_chunks += static_cast<int64_t>(direct);
    arrow_chunks += static_cast<int64_t>(read.size());
    if (read.empty()) {
      row_slots[p] = {};
      return Status::OK();
    }
    INTRADAY_ASSIGN_OR_RAISE(auto reader,
                             OpenPiece(lake, pieces[p], columns[t].table, read, kPieceBatchRows));
    size_t first_row = 0;  // of the batch, within the piece
    std::vector<int> to;   // per read column, its column in the table's schema
    while (true) {
      INTRADAY_ASSIGN_OR_RAISE(auto batch, reader->Next());
      if (batch == nullptr) break;
      if (to.empty()) {
        for (int c = 0; c < batch->num_columns(); ++c) {
          const int i = d.schema->GetFieldIndex(batch->schema()->field(c)->name());
          if (i < 0 || !batch->column(c)->type()->Equals(*d.schema->field(i)->type()))
            return columns_change();
          to.push_back(i);
        }
      }
      const auto n = static_cast<size_t>(batch->num_rows());
      if (first_row + n > piece_slots.size())
        return Status::Invalid(pieces[p].input->display_path, ": rows change between reads");
      const std::span<const int32_t> slot(piece_slots.data() + first_row, n);
      const int64_t* row_place = place.data() + first_row;
      first_row += n;
      std::vector<int> other;
      for (int c = 0; c < batch->num_columns(); ++c) {
        const auto cc = static_cast<size_t>(to[static_cast<size_t>(c)]);
        const int width = d.width[cc];
        if (width == 0) {
          other.push_back(c);
          continue;
        }
        const arrow::ArrayData& src = *batch->column_data(c);
        uint8_t* out = d.values[cc]->mutable_data();
        PlaceFixedWidth(src.buffers[1]->data() + src.offset * width, src.length, row_place, width, out);
        if (src.GetNullCount() == 0) continue;
        mark_nulls(cc, row_place, src.length, [&](int64_t r) { return !src.IsValid(r); });
      }
      if (!other.empty()) {
        INTRADAY_ASSIGN_OR_RAISE(auto sub, batch->SelectColumns(other));
        Grouped g;
        auto regrouped = GroupRowsBySlots(*sub, slot, slots, &g.starts);
        if (!regrouped.ok())
          return regrouped.status().WithMessage(pieces[p].input->display_path, ": ",
                                                regrouped.status().message());
        g.batch = *std::move(regrouped);
        grouped[p].push_back(std::move(g));
      }
    }
    if (first_row != piece_slots.size())
      return Status::Invalid(pieces[p].input->display_path, ": rows change between reads");
    row_slots[p] = {};
    return Status::OK();
  }));

  *page_column_chunks += page_chunks;
  *arrow_column_chunks += arrow_chunks;

  // 5. Each table's batch: fixed-width columns as written, the others listing by listing. The
  // columns are finished in parallel (validity packed into bitmaps, strings concatenated), the
  // widest work first.
  struct Finish {
    size_t table;
    int column;
    int other_index;  // among the table's grouped columns, or -1
  };
  std::vector<Finish> finishes;
  std::vector<std::vector<std::shared_ptr<arrow::Array>>> arrays(columns.size());
  for (size_t t = 0; t < columns.size(); ++t) {
    const Destination& d = dest[t];
    if (d.schema == nullptr) continue;
    arrays[t].resize(static_cast<size_t>(d.schema->num_fields()));
    int other_index = 0;
    for (int c = 0; c < d.schema->num_fields(); ++c) {
      if (c != d.id_column)
        finishes.push_back({t, c, d.width[static_cast<size_t>(c)] > 0 ? -1 : other_index++});
    }
  }
  std::stable_sort(finishes.begin(), finishes.end(), [&](const Finish& a, const Finish& b) {
    return (a.other_index >= 0 ? 4 : 1) * total[a.table] > (b.other_index >= 0 ? 4 : 1) * total[b.table];
  });
  INTRADAY_RETURN_NOT_OK(ParallelFor(finishes.size(), task.threads, [&](size_t k) -> Status {
    const auto [t, c, other_index] = finishes[k];
    Destination& d = dest[t];
    const size_t cc = static_cast<size_t>(c);
    const auto& type = d.schema->field(c)->type();
    std::shared_ptr<arrow::Array>& array = arrays[t][cc];
    if (d.width[cc] > 0) {
      std::shared_ptr<arrow::Buffer> validity;
      int64_t nulls = 0;
      if (d.valid[cc] != nullptr) {
        INTRADAY_ASSIGN_OR_RAISE(validity, arrow::AllocateBitmap(total[t]));
        const uint8_t* valid = d.valid[cc].get();
        int64_t i = 0;
        arrow::internal::GenerateBitsUnrolled(validity->mutable_data(), 0, total[t],
                                              [&] { return valid[i++] != 0; });
        nulls = std::count(valid, valid + total[t], uint8_t{0});
        d.valid[cc].reset();
      }
      array = arrow::MakeArray(arrow::ArrayData::Make(type, total[t], {validity, d.values[cc]}, nulls));
      return Status::OK();
    }
    arrow::ArrayVector slices;
    for (size_t s = 0; s < slots; ++s) {
      for (size_t p = 0; p < pieces.size(); ++p) {
        if (pieces[p].table != t) continue;
        for (const Grouped& g : grouped[p]) {
          const int64_t begin = g.starts[s], end = g.starts[s + 1];
          if (end > begin) slices.push_back(g.batch->column(other_index)->Slice(begin, end - begin));
        }
      }
    }
    if (slices.empty()) {
      INTRADAY_ASSIGN_OR_RAISE(array, arrow::MakeEmptyArray(type));
    } else {
      INTRADAY_ASSIGN_OR_RAISE(array, arrow::Concatenate(slices));
    }
    if (array->length() != total[t]) return Status::Invalid("grouped column lengths differ");
    return Status::OK();
  }));
  std::vector<PlacedTable> placed(columns.size());
  for (size_t t = 0; t < columns.size(); ++t) {
    placed[t].listing_start = listing_start[t];
    placed[t].listing_start.push_back(total[t]);
    if (dest[t].schema == nullptr) continue;
    arrow::FieldVector fields;
    arrow::ArrayVector kept;
    for (int c = 0; c < dest[t].schema->num_fields(); ++c) {
      if (c == dest[t].id_column) continue;
      fields.push_back(dest[t].schema->field(c));
      kept.push_back(std::move(arrays[t][static_cast<size_t>(c)]));
    }
    placed[t].batch = arrow::RecordBatch::Make(arrow::schema(std::move(fields)), total[t], std::move(kept));
  }

  // 6. A listing whose rows are not in time order (a file out of time order, or files whose times
  // overlap) sorted within its block, in place: every listing is then one run in time order, a
  // view (IndexPlacedTable), and no listing is gathered. A table this cannot sort (a column type
  // it cannot move, null times) is left as it is, for IndexTable's general path (or its error).
  for (size_t t = 0; t < columns.size(); ++t) {
    const std::shared_ptr<arrow::RecordBatch>& batch = placed[t].batch;
    if (batch == nullptr) continue;
    const int time_column =
        batch->schema()->GetFieldIndex(std::string(SpecOf(columns[t].table).event_time_column));
    if (!CheckSortableInPlace(*batch, time_column).ok()) continue;
    placed[t].in_time_order = true;
    std::atomic<int64_t> sorted{0};
    INTRADAY_RETURN_NOT_OK(ParallelFor(slots, task.threads, [&](size_t s) -> Status {
      const int64_t end = s + 1 < slots ? listing_start[t][s + 1] : total[t];
      INTRADAY_ASSIGN_OR_RAISE(const bool moved,
                               SortBlockInPlace(*batch, time_column, listing_start[t][s], end));
      sorted += moved ? 1 : 0;
      return Status::OK();
    }));
    *sorted_blocks += sorted;
  }
  return placed;
}

/// One table's rows for the task, from its pieces' batches in input order: where each listing's
/// rows are (TableRows).
Result<TableRows> IndexTable(const TableColumns& columns, const Task& task, const ListingSlots& slot_of,
                             std::vector<std::shared_ptr<arrow::RecordBatch>> batches) {
  TableRows out;
  out.table = columns.table;
  out.first_run.assign(task.listings.size() + 1, 0);
  out.rows.assign(task.listings.size(), 0);
  if (batches.empty()) return out;
  out.schema = batches.front()->schema();
  const std::string time_name(SpecOf(columns.table).event_time_column);
  out.time_column = out.schema->GetFieldIndex(time_name);
  const int id_column = out.schema->GetFieldIndex("ListingId");
  int64_t n = 0, null_times = 0;
  out.batch_starts.push_back(0);
  for (const auto& b : batches) {
    for (int c = 0; c < out.schema->num_fields(); ++c) {
      const auto& field = *out.schema->field(c);
      if (b->num_columns() != out.schema->num_fields() || b->schema()->field(c)->name() != field.name() ||
          !b->column(c)->type()->Equals(*field.type())) {
        return Status::Invalid("table ", SpecOf(columns.table).key, ": column ", field.name(), " (",
                               field.type()->ToString(), ") changes between input files");
      }
    }
    n += b->num_rows();
    out.batch_starts.push_back(n);
    null_times += b->column(out.time_column)->null_count();
  }
  // Rows without an event time cannot be bucketed: rejected with the table named, rather than
  // silently dropped.
  if (null_times != 0) {
    return Status::Invalid("table ", SpecOf(columns.table).key, ": ", null_times, " rows have a null ",
                           time_name);
  }
  INTRADAY_ASSIGN_OR_RAISE(const bool in_order,
                           RunsOfSortedListings(batches, id_column, out.time_column, task, slot_of, &out));
  if (!in_order) INTRADAY_RETURN_NOT_OK(RunsBySorting(batches, id_column, out.time_column, task, n, &out));
  out.columns.resize(static_cast<size_t>(out.schema->num_fields()));
  for (auto& batch : batches) {
    for (int c = 0; c < out.schema->num_fields(); ++c)
      out.columns[static_cast<size_t>(c)].push_back(batch->column_data(c));
  }
  return out;
}

/// A table placed by ReadTablesGrouped: where each listing's rows are. Every listing is one run
/// in time order, its block; when some listing could not be sorted in place, the table gets its
/// ListingId column back (each block holds one id) and goes through IndexTable.
Result<TableRows> IndexPlacedTable(const TableColumns& columns, const Task& task, const ListingSlots& slot_of,
                                   PlacedTable placed) {
  if (placed.batch == nullptr) return IndexTable(columns, task, slot_of, {});
  const std::vector<int64_t>& start = placed.listing_start;
  const size_t n = task.listings.size();
  bool one_run_each = placed.in_time_order;
  for (size_t l = 0; l < n; ++l) one_run_each = one_run_each && start[l + 1] - start[l] <= UINT32_MAX;
  if (!one_run_each) {
    INTRADAY_ASSIGN_OR_RAISE(auto ids,
                             AllocateFilledBuffer(start[n] * static_cast<int64_t>(sizeof(int64_t))));
    auto* id = reinterpret_cast<int64_t*>(ids->mutable_data());
    for (size_t l = 0; l < n; ++l) std::fill(id + start[l], id + start[l + 1], task.listings[l]);
    const auto column = arrow::MakeArray(arrow::ArrayData::Make(arrow::int64(), start[n], {nullptr, ids}, 0));
    INTRADAY_ASSIGN_OR_RAISE(auto batch,
                             placed.batch->AddColumn(placed.batch->num_columns(),
                                                     arrow::field("ListingId", arrow::int64()), column));
    return IndexTable(columns, task, slot_of, {std::move(batch)});
  }
  TableRows out;
  out.table = columns.table;
  out.schema = placed.batch->schema();
  out.time_column = out.schema->GetFieldIndex(std::string(SpecOf(columns.table).event_time_column));
  out.batch_starts = {0, placed.batch->num_rows()};
  out.first_run.assign(n + 1, 0);
  out.rows.assign(n, 0);
  for (size_t l = 0; l < n; ++l) {
    out.rows[l] = start[l + 1] - start[l];
    if (out.rows[l] > 0) out.runs.push_back({0, static_cast<uint32_t>(out.rows[l]), start[l]});
    out.first_run[l + 1] = out.runs.size();
  }
  out.columns.resize(static_cast<size_t>(out.schema->num_fields()));
  for (int c = 0; c < out.schema->num_fields(); ++c)
    out.columns[static_cast<size_t>(c)].push_back(placed.batch->column_data(c));
  return out;
}

/// Where a batch's output rows go, record batch after record batch in (ListingId, TimeBucket)
/// order: the day's Parquet file (a day of one batch: the bytes the driver would write from the
/// batch's output, sparing the rows a trip through scratch), or the batch's Arrow IPC output in
/// scratch, written under a temporary name and committed whole.
class BatchOutput {
 public:
  virtual ~BatchOutput() = default;
  virtual Status Add(const std::shared_ptr<arrow::RecordBatch>& batch) = 0;
  /// The rows and bytes written; the file complete.
  virtual Result<DayOutputStats> Finish() = 0;
};

class DayFileOutput final : public BatchOutput {
 public:
  static Result<std::unique_ptr<BatchOutput>> Open(const std::string& path,
                                                   const std::shared_ptr<arrow::Schema>& schema,
                                                   const DayFileCompression& compression) {
    auto out = std::make_unique<DayFileOutput>();
    INTRADAY_ASSIGN_OR_RAISE(out->sink_, arrow::io::FileOutputStream::Open(path));
    INTRADAY_ASSIGN_OR_RAISE(out->writer_, DayFileWriter::Open(schema, out->sink_, 2, compression));
    return out;
  }
  Status Add(const std::shared_ptr<arrow::RecordBatch>& batch) override {
    return writer_->Add(batch, "the batch's rows");  // OutputChunks adds the path
  }
  Result<DayOutputStats> Finish() override {
    INTRADAY_ASSIGN_OR_RAISE(const DayOutputStats stats, writer_->Finish());
    INTRADAY_RETURN_NOT_OK(sink_->Close());
    return stats;
  }

 private:
  std::shared_ptr<arrow::io::FileOutputStream> sink_;
  std::unique_ptr<DayFileWriter> writer_;
};

class IpcOutput final : public BatchOutput {
 public:
  static Result<std::unique_ptr<BatchOutput>> Open(const Location& scratch, const std::string& path,
                                                   const std::shared_ptr<arrow::Schema>& schema) {
    auto out = std::make_unique<IpcOutput>();
    INTRADAY_ASSIGN_OR_RAISE(out->file_, scratch.OpenAtomic(path));
    INTRADAY_ASSIGN_OR_RAISE(out->writer_, arrow::ipc::MakeFileWriter(out->file_->stream(), schema));
    return out;
  }
  Status Add(const std::shared_ptr<arrow::RecordBatch>& batch) override {
    rows_ += batch->num_rows();
    return writer_->WriteRecordBatch(*batch);
  }
  Result<DayOutputStats> Finish() override {
    INTRADAY_RETURN_NOT_OK(writer_->Close());
    INTRADAY_ASSIGN_OR_RAISE(const int64_t size, file_->Tell());
    INTRADAY_RETURN_NOT_OK(file_->Commit());
    return DayOutputStats{rows_, static_cast<uint64_t>(size)};
  }

 private:
  std::unique_ptr<AtomicOutput> file_;  // aborted unless committed
  std::shared_ptr<arrow::ipc::RecordBatchWriter> writer_;
  int64_t rows_ = 0;
};

}  // namespace

Status WriteIpcAtomic(const Location& location, const std::string& path,
                      const std::shared_ptr<arrow::Schema>& schema,
                      const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches, uint64_t* bytes) {
  INTRADAY_ASSIGN_OR_RAISE(auto output, IpcOutput::Open(location, path, schema));
  for (const auto& batch : batches) INTRADAY_RETURN_NOT_OK(output->Add(batch));
  INTRADAY_ASSIGN_OR_RAISE(const DayOutputStats stats, output->Finish());
  *bytes = stats.bytes;
  return Status::OK();
}

namespace {

/// A batch's output, chunk of listings by chunk: the chunks are handed over as they are
/// computed, in any order, and written in order by whichever computing thread is free, so that
/// writing (the day file's encoding, or the IPC output's copy into scratch) overlaps the
/// computing of later chunks and a chunk's rows are let go of once written. The message of any
/// error names the file.
class OutputChunks {
 public:
  static Result<std::unique_ptr<OutputChunks>> Open(const Task& task, const Location& scratch,
                                                    const std::shared_ptr<arrow::Schema>& schema,
                                                    size_t chunks) {
    const std::string& path = task.day_file.empty() ? task.output_path : task.day_file;
    auto output = task.day_file.empty() ? IpcOutput::Open(scratch, path, schema)
                                        : DayFileOutput::Open(path, schema, task.day_file_compression);
    if (!output.ok()) return Named(path, output.status());
    return std::unique_ptr<OutputChunks>(new OutputChunks(path, *std::move(output), chunks));
  }

  /// Chunk c is computed: it is written now, with the computed chunks after it, unless another
  /// thread is writing (which then writes it).
  Status Done(size_t c, std::vector<std::shared_ptr<arrow::RecordBatch>> batches) {
    {
      std::lock_guard lock(mutex_);
      chunks_[c] = std::move(batches);
      done_[c] = true;
      if (writing_) return Status::OK();
      writing_ = true;
    }
    while (true) {
      std::vector<std::shared_ptr<arrow::RecordBatch>> next;
      {
        std::lock_guard lock(mutex_);
        if (next_ == done_.size() || !done_[next_] || !status_.ok()) {
          writing_ = false;
          return status_;
        }
        next = std::move(chunks_[next_]);
      }
      Status written;
      for (const auto& batch : next) {
        written = output_->Add(batch);
        if (!written.ok()) break;
      }
      std::lock_guard lock(mutex_);
      if (!written.ok()) status_ = Named(path_, written);
      ++next_;
    }
  }

  /// Once every chunk is done: the file complete (closed, or committed).
  Result<DayOutputStats> Finish() {
    INTRADAY_RETURN_NOT_OK(status_);
    if (next_ != done_.size()) return Status::Invalid(path_, ": chunks left unwritten");
    auto stats = output_->Finish();
    if (!stats.ok()) return Named(path_, stats.status());
    return stats;
  }

 private:
  OutputChunks(std::string path, std::unique_ptr<BatchOutput> output, size_t chunks)
      : path_(std::move(path)), output_(std::move(output)), chunks_(chunks), done_(chunks, false) {}
  static Status Named(const std::string& path, const Status& st) {
    return st.WithMessage("writing ", path, ": ", st.message());
  }

  std::string path_;
  std::unique_ptr<BatchOutput> output_;
  std::mutex mutex_;
  std::vector<std::vector<std::shared_ptr<arrow::RecordBatch>>> chunks_;  // computed, not yet written
  std::vector<bool> done_;
  size_t next_ = 0;  // the next chunk to write
  bool writing_ = false;
  Status status_;
};

/// The end of every event task: the output complete, the spill inputs deleted, the result.
/// `output`: the task's output, its chunks already handed over; if null, the output is
/// `output_batches`.
Status FinishBatchTask(const Task& task, const Location& scratch,
                       const std::shared_ptr<arrow::Schema>& schema,
                       std::vector<std::shared_ptr<arrow::RecordBatch>> output_batches,
                       std::unique_ptr<OutputChunks> output, std::chrono::steady_clock::time_point started,
                       TaskResult* result) {
  if (output == nullptr) {
    INTRADAY_ASSIGN_OR_RAISE(output, OutputChunks::Open(task, scratch, schema, 1));
    INTRADAY_RETURN_NOT_OK(output->Done(0, std::move(output_batches)));
  }
  INTRADAY_ASSIGN_OR_RAISE(const DayOutputStats stats, output->Finish());
  result->output_rows = stats.rows;
  result->output_bytes = stats.bytes;

  // The output is safe: the spill files of this batch are no longer needed.
  for (const auto& input : task.inputs) {
    if (!input.spill || !task.delete_spill_inputs) continue;
    (void)scratch.Delete(input.path);
  }
  result->compute_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result->peak_rss_bytes = SelfPeakRssBytes();
  return scratch.WriteText(task.result_path, TaskResultToJson(*result));
}

}  // namespace

Status RunBatchTask(const Task& task, const Location& scratch) {
  const auto started = std::chrono::steady_clock::now();
  INTRADAY_RETURN_NOT_OK(EnsureComputeInitialized());
  INTRADAY_ASSIGN_OR_RAISE(PipelineConfig config, LoadPipelineConfigWithModules(task.config_file));
  if (ConfigHashHex(config) != task.config_hash) {
    return Status::Invalid(task.config_file, " changed since the run was planned (config hash ",
                           ConfigHashHex(config), ", planned with ", task.config_hash, ")");
  }
  const PassConfig* pass = config.FindPass(task.pass);
  if (pass == nullptr) return Status::Invalid("no pass '", task.pass, "' in ", task.config_file);
  if (IsDerivedPass(*pass)) return RunDerivedTask(task, config, *pass, scratch);
  INTRADAY_ASSIGN_OR_RAISE(auto modules, CreatePassModules(*pass, task.config_file));
  const std::vector<TableColumns> columns = PassColumns(modules, *pass);
  INTRADAY_ASSIGN_OR_RAISE(auto schema, PassOutputSchema(modules));
  INTRADAY_ASSIGN_OR_RAISE(auto lake, Lake::Open(config.data.ToLakeOptions()));

  TaskResult result;
  if (task.stream_over_time) {
    // An oversize listing: computed in time slices within the budget when its rows come in time
    // order (else loaded whole below, which the driver reports).
    std::vector<Table> order;
    for (const auto& c : columns) order.push_back(c.table);
    const ListingDayComputer computer(modules, ShapeOf(*pass), pass->session_padding_ns, order);
    result.stream_fallback = StreamBlocker(modules, ShapeOf(*pass));
    if (task.listings.size() != 1) result.stream_fallback = "the batch has several listings";
    if (result.stream_fallback.empty()) {
      OutputAssembler assembler(schema, modules);
      INTRADAY_ASSIGN_OR_RAISE(const bool streamed,
                               StreamListing(task, *lake, scratch, columns, computer, &assembler, &result));
      if (streamed) {
        INTRADAY_ASSIGN_OR_RAISE(auto output_batches, assembler.Finish());
        return FinishBatchTask(task, scratch, schema, std::move(output_batches), nullptr, started, &result);
      }
      result.input_rows = 0;
      result.listing_rows.clear();
    }
  }

  const ListingSlots slot_of = ListingSlots::Numbered(task.listings);  // the batch's listings, by index
  // Inputs load in parallel, then listings are computed in parallel in contiguous chunks whose
  // outputs are concatenated in ListingId order: the output is the same for any thread count.
  // Each chunk takes its listings' rows one listing at a time. Pieces are read in parallel, the widest first
  // (a free thread takes the next); the rows come out in the same order for any thread count. Lake files:
  // ReadTablesGrouped, one batch per table with every listing's rows contiguous. Spill files (a shredded
  // day): mapped, their batches (grouped by listing by the shredder) kept in input order.
  INTRADAY_ASSIGN_OR_RAISE(const std::vector<InputPiece> pieces, SplitInputs(*lake, columns, task));
  std::vector<size_t> by_weight(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) by_weight[i] = i;
  std::stable_sort(by_weight.begin(), by_weight.end(),
                   [&](size_t a, size_t b) { return pieces[a].weight > pieces[b].weight; });
  std::vector<std::vector<std::shared_ptr<arrow::RecordBatch>>> table_batches(columns.size());
  const bool shredded =
      std::any_of(task.inputs.begin(), task.inputs.end(), [](const TaskInput& input) { return input.spill; });
  std::vector<PlacedTable> placed;
  if (!shredded) {
    INTRADAY_ASSIGN_OR_RAISE(
        placed,
        ReadTablesGrouped(*lake, columns, pieces, by_weight, task, slot_of, &result.input_rows,
                          &result.sorted_listings, &result.page_column_chunks, &result.arrow_column_chunks));
    for (PlacedTable& p : placed) {
      if (p.batch != nullptr && p.batch->num_rows() == 0) p.batch = nullptr;
    }
  } else {
    std::vector<std::vector<std::shared_ptr<arrow::RecordBatch>>> piece_batches(pieces.size());
    INTRADAY_RETURN_NOT_OK(ParallelFor(pieces.size(), task.threads, [&](size_t k) -> Status {
      const size_t i = by_weight[k];
      INTRADAY_ASSIGN_OR_RAISE(piece_batches[i], ReadSpill(*pieces[i].input, scratch));
      return Status::OK();
    }));
    for (size_t i = 0; i < pieces.size(); ++i) {
      for (auto& b : piece_batches[i]) {
        result.input_rows += b->num_rows();
        if (b->num_rows() > 0) table_batches[pieces[i].table].push_back(std::move(b));
      }
    }
  }
  std::vector<TableRows> tables(columns.size());
  INTRADAY_RETURN_NOT_OK(ParallelFor(columns.size(), task.threads, [&](size_t t) -> Status {
    if (!placed.empty()) {
      INTRADAY_ASSIGN_OR_RAISE(tables[t], IndexPlacedTable(columns[t], task, slot_of, std::move(placed[t])));
    } else {
      INTRADAY_ASSIGN_OR_RAISE(tables[t], IndexTable(columns[t], task, slot_of, std::move(table_batches[t])));
    }
    return Status::OK();
  }));
  for (const TableRows& t : tables) {
    for (size_t l = 0; l + 1 < t.first_run.size(); ++l)
      result.gathered_listings += t.first_run[l + 1] - t.first_run[l] > 1;
  }
  std::vector<Table> table_order;
  for (const auto& t : tables) table_order.push_back(t.table);
  const ListingDayComputer computer(modules, ShapeOf(*pass), pass->session_padding_ns, table_order);

  // Chunks of listings with about equal input rows.
  const size_t n = task.listings.size();
  int64_t total_rows = 0;
  for (const auto& t : tables) {
    std::vector<int64_t>& listing_rows = result.listing_rows[t.table];  // for the size history
    listing_rows = t.rows;
    for (int64_t rows : t.rows) total_rows += rows;
  }
  const size_t chunks = std::min(n, static_cast<size_t>(std::max(1, task.threads)) * 4);
  std::vector<size_t> chunk_begin{0};
  int64_t acc = 0;
  for (size_t l = 0; l < n && chunks > 1; ++l) {
    for (const auto& t : tables) acc += t.rows[l];
    if (acc * static_cast<int64_t>(chunks) >= total_rows * static_cast<int64_t>(chunk_begin.size()) &&
        l + 1 < n && chunk_begin.size() < chunks)
      chunk_begin.push_back(l + 1);
  }
  chunk_begin.push_back(n);
  const size_t n_chunks = chunk_begin.size() - 1;
  // Spill files read through a mapping (local scratch) let go of their pages as listings are
  // done, in sixteen steps.
  std::unique_ptr<MappedInputRelease> release;
  if (shredded && !scratch.is_s3() && n > 1)
    release =
        std::make_unique<MappedInputRelease>(tables, chunk_begin, std::max<int64_t>(1, total_rows / 16));
  INTRADAY_ASSIGN_OR_RAISE(auto output, OutputChunks::Open(task, scratch, schema, n_chunks));
  // Gatherers pass from chunk to chunk (at most one set per thread), so that their buffers, once
  // touched, serve every later listing.
  std::mutex idle_mutex;
  std::vector<std::unique_ptr<std::vector<ListingGatherer>>> idle;
  INTRADAY_RETURN_NOT_OK(ParallelFor(n_chunks, task.threads, [&](size_t c) -> Status {
    OutputAssembler assembler(schema, modules);
    std::unique_ptr<std::vector<ListingGatherer>> owned;
    {
      std::lock_guard lock(idle_mutex);
      if (!idle.empty()) {
        owned = std::move(idle.back());
        idle.pop_back();
      }
    }
    if (owned == nullptr) {
      owned = std::make_unique<std::vector<ListingGatherer>>();
      for (const auto& t : tables) owned->emplace_back(t);
    }
    std::vector<ListingGatherer>& gatherers = *owned;
    std::vector<ListingTable> views(tables.size());
    std::vector<int64_t> labels;
    std::vector<OutputBlock> blocks;
    for (size_t l = chunk_begin[c]; l < chunk_begin[c + 1]; ++l) {
      for (size_t i = 0; i < tables.size(); ++i) {
        views[i] = ListingTable();
        if (tables[i].rows[l] == 0) continue;
        INTRADAY_ASSIGN_OR_RAISE(auto rows, gatherers[i].Gather(l));
        views[i] = ListingTable(std::move(rows), tables[i].time_column);
        // A batch of one listing (an oversize listing computed whole: one chunk, one thread)
        // lets go of each table's input once its rows are copied, so that the input and its
        // copy are never held in full at once (the input of a spill file is its mapping).
        if (n == 1) tables[i].columns.clear();
      }
      INTRADAY_RETURN_NOT_OK(computer.Compute(task.listings[l], task.day, views, &labels, &blocks));
      if (release != nullptr) {
        for (auto& view : views) view = ListingTable();  // a one-run listing's view is of the mapping
        release->ListingDone(c, l);
      }
      if (labels.empty()) continue;
      INTRADAY_RETURN_NOT_OK(assembler.Append(task.listings[l], labels, blocks));
    }
    INTRADAY_ASSIGN_OR_RAISE(auto chunk_output, assembler.Finish());
    {
      std::lock_guard lock(idle_mutex);
      idle.push_back(std::move(owned));
    }
    return output->Done(c, std::move(chunk_output));
  }));
  idle.clear();
  if (release != nullptr) result.input_bytes_released = release->released_bytes();
  release.reset();
  tables.clear();
  // Only the output is left to finish: what the allocator kept of the input goes back to the
  // system, and the driver may start the next batch on this worker's cores.
  arrow::default_memory_pool()->ReleaseUnused();
  NotifyOutputOnly();
  // Fault-injection hook for the engine's own tests (docs/engine.md): hold the output's end.
  if (const char* delay = std::getenv("INTRADAY_TEST_OUTPUT_DELAY_MS"))
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoll(delay)));
  return FinishBatchTask(task, scratch, schema, {}, std::move(output), started, &result);
}

}  // namespace intraday
