#include "exec/listing_rows.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include <arrow/util/bit_util.h>
#include <arrow/util/bitmap_ops.h>

#include "exec/memory_pages.h"
#include "io/group_rows.h"

namespace intraday {
namespace {

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

}  // namespace

ListingGatherer::ListingGatherer(const TableRows& rows) : rows_(rows), buffers_(rows.columns.size()) {
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

Result<std::shared_ptr<arrow::RecordBatch>> ListingGatherer::Gather(size_t listing) {
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

Result<uint8_t*> ListingGatherer::Reserve(RawBuffer& b, int64_t bytes) {
  const int64_t size = b.memory != nullptr ? b.memory->size() : 0;
  if (b.memory == nullptr || size < bytes) {
    b.memory.reset();
    INTRADAY_ASSIGN_OR_RAISE(b.memory, AllocateFilledBuffer(std::max({bytes, b.planned, size + size / 2})));
  }
  return b.memory->mutable_data();
}

Result<std::shared_ptr<arrow::ArrayData>> ListingGatherer::GatherColumn(size_t c, std::span<const Run> runs,
                                                                        int64_t n) {
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

}  // namespace intraday
