#include "exec/direct_read.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <span>
#include <tuple>

#include <arrow/array.h>
#include <arrow/array/concatenate.h>
#include <arrow/util/bit_util.h>
#include <arrow/util/bitmap_generate.h>
#include <arrow/util/bitmap_ops.h>

#include "exec/memory_pages.h"
#include "exec/parallel.h"
#include "io/column_pages.h"
#include "io/group_rows.h"

namespace intraday {
namespace {

/// Rows of a column decoded from its pages at a time: a chunk stays in cache while it is placed.
constexpr int64_t kChunkRows = 4096;

/// Clears bit `i` of a bitmap whose bytes other threads may be clearing bits of.
void ClearBit(uint8_t* bitmap, int64_t i) {
  std::atomic_ref<uint8_t>(bitmap[i >> 3])
      .fetch_and(static_cast<uint8_t>(~(1u << (i & 7))), std::memory_order_relaxed);
}

}  // namespace

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

Result<std::unique_ptr<TableFileReader>> OpenPiece(const Lake& lake, const InputPiece& piece, Table table,
                                                   std::vector<std::string> columns, int64_t batch_rows) {
  TableReadOptions options;
  options.columns = std::move(columns);
  options.batch_rows = batch_rows;
  options.row_groups = {piece.row_group};
  options.metadata = piece.metadata;
  return TableFileReader::Open(lake.fs(), piece.input->path, piece.input->display_path, table, options);
}

Result<std::unique_ptr<PieceInt64Columns>> PieceInt64Columns::Open(const Lake& lake, const InputPiece& piece,
                                                                   Table table,
                                                                   std::vector<std::string> names) {
  std::unique_ptr<PieceInt64Columns> out(new PieceInt64Columns());
  out->display_path_ = piece.input->display_path;
  const size_t n = names.size();
  out->values_.assign(n, nullptr);
  out->valid_.assign(n, nullptr);
  INTRADAY_ASSIGN_OR_RAISE(out->pages_,
                           RowGroupPages::Open(lake.fs(), piece.input->path, piece.input->display_path,
                                               piece.metadata, piece.row_group));
  if (out->pages_ != nullptr) {
    for (const auto& name : names) {
      const auto field = piece.schema->GetFieldByName(name);
      if (field == nullptr) return Status::Invalid(piece.input->display_path, ": no column ", name);
      INTRADAY_ASSIGN_OR_RAISE(auto column, out->pages_->Column(name, *field->type()));
      if (column == nullptr) break;
      out->columns_.push_back(std::move(column));
    }
    if (out->columns_.size() == n) {
      out->buffers_.assign(n, std::vector<int64_t>(kChunkRows));
      out->valid_bytes_.assign(n, std::vector<uint8_t>(kChunkRows));
      return out;
    }
    out->columns_.clear();
  }
  INTRADAY_ASSIGN_OR_RAISE(out->reader_, OpenPiece(lake, piece, table, std::move(names)));
  out->valid_bytes_.resize(n);
  return out;
}

Result<int64_t> PieceInt64Columns::Next() {
  if (!columns_.empty()) {
    int64_t rows = -1;
    for (size_t i = 0; i < columns_.size(); ++i) {
      bool has_null = false;
      INTRADAY_ASSIGN_OR_RAISE(const int64_t n,
                               columns_[i]->Next(kChunkRows, reinterpret_cast<uint8_t*>(buffers_[i].data()),
                                                 valid_bytes_[i].data(), &has_null));
      if (rows >= 0 && n != rows)
        return Status::Invalid(display_path_, ": columns of one row group differ in rows");
      rows = n;
      values_[i] = buffers_[i].data();
      valid_[i] = has_null ? valid_bytes_[i].data() : nullptr;
    }
    return rows;
  }
  INTRADAY_ASSIGN_OR_RAISE(batch_, reader_->Next());
  if (batch_ == nullptr) return 0;
  for (int c = 0; c < batch_->num_columns(); ++c) {
    const auto i = static_cast<size_t>(c);
    const arrow::ArrayData& data = *batch_->column_data(c);
    values_[i] = data.GetValues<int64_t>(1);
    valid_[i] = nullptr;
    if (data.GetNullCount() == 0) continue;
    valid_bytes_[i].resize(static_cast<size_t>(data.length));
    for (int64_t r = 0; r < data.length; ++r)
      valid_bytes_[i][static_cast<size_t>(r)] = data.IsValid(r) ? 1 : 0;
    valid_[i] = valid_bytes_[i].data();
  }
  return batch_->num_rows();
}

Result<PieceSlots> ReadPieceSlots(const Lake& lake, const std::vector<TableColumns>& columns,
                                  const std::vector<InputPiece>& pieces, const std::vector<size_t>& order,
                                  const Task& task, const ListingSlots& slot_of, int64_t* input_rows) {
  const size_t slots = task.listings.size();
  PieceSlots out;
  auto& counts = out.counts;
  auto& row_slots = out.row_slots;
  counts.assign(pieces.size(), std::vector<int64_t>(slots, 0));
  row_slots.resize(pieces.size());
  std::vector<int64_t> rows_read(pieces.size(), 0);
  INTRADAY_RETURN_NOT_OK(ParallelFor(pieces.size(), task.threads, [&](size_t k) -> Status {
    const size_t p = order[k];
    INTRADAY_ASSIGN_OR_RAISE(
        auto reader, PieceInt64Columns::Open(lake, pieces[p], columns[pieces[p].table].table, {"ListingId"}));
    std::vector<int32_t>& slot = row_slots[p];
    while (true) {
      INTRADAY_ASSIGN_OR_RAISE(const int64_t n, reader->Next());
      if (n == 0) break;
      rows_read[p] += n;
      const int64_t* ids = reader->values(0);
      const uint8_t* valid = reader->valid(0);
      for (int64_t i = 0; i < n; ++i) {
        const int32_t s = valid != nullptr && valid[i] == 0 ? -1 : slot_of.Find(ids[i]);
        slot.push_back(s);
        if (s >= 0) ++counts[p][static_cast<size_t>(s)];
      }
    }
    return Status::OK();
  }));
  for (int64_t rows : rows_read) *input_rows += rows;
  return out;
}

Result<std::vector<PlacedTable>> PlaceTables(const Lake& lake, const std::vector<TableColumns>& columns,
                                             const std::vector<InputPiece>& pieces,
                                             const std::vector<size_t>& order, const Task& task,
                                             PieceSlots selected, int64_t* sorted_blocks,
                                             int64_t* page_column_chunks, int64_t* arrow_column_chunks,
                                             SliceExtras* slice) {
  const std::vector<CarriedRows>* front = slice != nullptr ? &slice->front : nullptr;
  std::vector<std::shared_ptr<arrow::RecordBatch>>* held = slice != nullptr ? &slice->held : nullptr;
  const size_t slots = task.listings.size();
  const auto& counts = selected.counts;
  auto& row_slots = selected.row_slots;

  // 2. Where each listing starts in its table (its front rows first), and each piece's first
  // place per listing.
  auto front_of = [&](size_t t) -> const CarriedRows* {
    if (front == nullptr || t >= front->size() || (*front)[t].rows == nullptr) return nullptr;
    return &(*front)[t];
  };
  auto front_rows = [&](size_t t, size_t s) -> int64_t {
    const CarriedRows* carried = front_of(t);
    return carried == nullptr ? 0 : carried->count(s);
  };
  std::vector<int64_t> total(columns.size(), 0);
  std::vector<std::vector<int64_t>> offset(pieces.size());
  std::vector<std::vector<int64_t>> listing_start(columns.size());  // per table, per listing
  for (size_t t = 0; t < columns.size(); ++t) {
    std::vector<int64_t> next(slots, 0);  // per listing, its first place not yet given
    int64_t start = 0;
    for (size_t s = 0; s < slots; ++s) {
      next[s] = start;
      start += front_rows(t, s);
      for (size_t p = 0; p < pieces.size(); ++p) {
        if (pieces[p].table == t) start += counts[p][s];
      }
    }
    total[t] = start;
    listing_start[t] = next;
    for (size_t s = 0; s < slots; ++s) next[s] += front_rows(t, s);
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
    // Per column: its validity bitmap, allocated at its first null (all set), or none. Threads
    // placing rows of different pieces may clear bits of one byte: cleared atomically.
    std::vector<std::shared_ptr<arrow::Buffer>> valid;
    std::mutex valid_mutex;
    /// Column `column`'s bitmap, of `rows` bits.
    Result<uint8_t*> ValidBits(size_t column, int64_t rows) {
      std::lock_guard lock(valid_mutex);
      if (valid[column] == nullptr) {
        INTRADAY_ASSIGN_OR_RAISE(valid[column], arrow::AllocateBitmap(rows));
        std::memset(valid[column]->mutable_data(), 0xFF, static_cast<size_t>(valid[column]->size()));
      }
      return valid[column]->mutable_data();
    }
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
    std::shared_ptr<arrow::Buffer> block;
    if (slice != nullptr && slice->blocks.size() == columns.size() && slice->blocks[t] != nullptr &&
        slice->blocks[t].use_count() == 1 && slice->blocks[t]->size() >= block_bytes) {
      block = slice->blocks[t];
    } else {
      // A slice's block with room for larger slices: pages never written are never resident.
      INTRADAY_ASSIGN_OR_RAISE(block, AllocateFilledBuffer(slice != nullptr ? block_bytes * 2 : block_bytes));
      if (slice != nullptr) {
        slice->blocks.resize(columns.size());
        slice->blocks[t] = block;
      }
    }
    for (int c = 0; c < n_columns; ++c) {
      const auto i = static_cast<size_t>(c);
      if (d.width[i] > 0) d.values[i] = arrow::SliceMutableBuffer(block, at[i], total[t] * d.width[i]);
    }
  }

  // 4. Every piece, whole but for ListingId (its rows' slots are known): fixed-width values to
  // their places, the other columns grouped. Rows a time slice holds for later slices
  // (PieceSlots::keep) are copied, in piece order, into the piece's held batch.
  struct Grouped {
    std::shared_ptr<arrow::RecordBatch> batch;  // the columns of width 0
    std::vector<int64_t> starts;                // per slot, then its rows
  };
  std::vector<std::vector<Grouped>> grouped(pieces.size());
  std::atomic<int64_t> page_chunks{0};
  std::atomic<int64_t> arrow_chunks{0};
  std::atomic<int64_t> released{0};
  if (held != nullptr) held->assign(pieces.size(), nullptr);
  if (slice != nullptr) slice->cursors.resize(pieces.size());
  INTRADAY_RETURN_NOT_OK(ParallelFor(pieces.size(), task.threads, [&](size_t k) -> Status {
    const size_t p = order[k];
    const size_t t = pieces[p].table;
    Destination& d = dest[t];
    if (d.schema == nullptr) return Status::OK();
    const std::shared_ptr<arrow::RecordBatch> held_in = p < selected.held.size() ? selected.held[p] : nullptr;
    const std::vector<uint8_t>* keep =
        p < selected.keep.size() && !selected.keep[p].empty() ? &selected.keep[p] : nullptr;
    if (keep != nullptr && held == nullptr) return Status::Invalid("rows held with nowhere to go");
    const std::string& display_path = pieces[p].input->display_path;
    // The rows read: the held ones, then the file's [file_first, file_end).
    const int64_t group_rows = pieces[p].metadata->RowGroup(pieces[p].row_group)->num_rows();
    int64_t file_first = 0, file_end = group_rows;
    if (!selected.file_rows.empty()) std::tie(file_first, file_end) = selected.file_rows[p];
    if (file_first < 0 || file_end < file_first || file_end > group_rows ||
        (file_end < group_rows && slice == nullptr))
      return Status::Invalid(display_path, ": rows ", file_first, " to ", file_end, " of a row group of ",
                             group_rows);
    // Nothing to place or hold, and (a time slice's) no file rows to read past.
    if (keep == nullptr && (selected.file_rows.empty() || file_end == file_first) &&
        std::all_of(counts[p].begin(), counts[p].end(), [](int64_t n) { return n == 0; })) {
      row_slots[p] = {};
      return Status::OK();
    }
    const int64_t n_in = held_in != nullptr ? held_in->num_rows() : 0;
    const int64_t n_rows = n_in + (file_end - file_first);
    const std::vector<int32_t>& piece_slots = row_slots[p];
    if (static_cast<int64_t>(piece_slots.size()) != n_rows)
      return Status::Invalid(display_path, ": rows change between reads");
    auto columns_change = [&] {
      return Status::Invalid("table ", SpecOf(columns[t].table).key, ": ", display_path,
                             ": columns change between input files");
    };
    // Every row's place, once for all its columns; and a held row's place among the held rows.
    std::vector<int64_t> place(piece_slots.size());
    {
      std::vector<int64_t> next = offset[p];
      for (size_t i = 0; i < place.size(); ++i)
        place[i] = piece_slots[i] < 0 ? -1 : next[static_cast<size_t>(piece_slots[i])]++;
    }
    const auto n_columns = static_cast<size_t>(d.schema->num_fields());
    std::vector<int64_t> held_place;
    std::vector<int32_t> held_slot;  // 0 for a held row, else -1: GroupRowsBySlots' filter
    int64_t n_held = 0;
    std::vector<std::shared_ptr<arrow::Buffer>> held_values(n_columns);
    std::vector<std::vector<uint8_t>> held_valid(n_columns);  // a byte per held row, or empty: no nulls
    std::map<std::string, arrow::ArrayVector> held_other;     // the grouped columns' held rows
    if (keep != nullptr) {
      if (keep->size() != place.size()) return Status::Invalid(display_path, ": rows change between reads");
      held_place.resize(keep->size());
      held_slot.resize(keep->size());
      for (size_t i = 0; i < keep->size(); ++i) {
        held_place[i] = (*keep)[i] != 0 ? n_held++ : -1;
        held_slot[i] = (*keep)[i] != 0 ? 0 : -1;
      }
      for (size_t c = 0; c < n_columns; ++c) {
        if (d.width[c] == 0) continue;
        // From the allocator, which keeps freed pages for the next slices' held rows.
        INTRADAY_ASSIGN_OR_RAISE(held_values[c],
                                 arrow::AllocateBuffer(std::max<int64_t>(1, n_held * d.width[c])));
      }
    }
    auto mark_nulls = [&](size_t cc, const int64_t* row_place, int64_t n, auto is_null) -> Status {
      INTRADAY_ASSIGN_OR_RAISE(uint8_t* const bits, d.ValidBits(cc, total[t]));
      for (int64_t i = 0; i < n; ++i) {
        if (row_place[i] >= 0 && is_null(i)) ClearBit(bits, row_place[i]);
      }
      return Status::OK();
    };
    // The rows that go anywhere, [first, end): a time slice reads pieces whose rows of the
    // slice, and those it holds, are each mostly one run (files in time order).
    auto extent = [](const std::vector<int64_t>& to) {
      int64_t first = 0, end = static_cast<int64_t>(to.size());
      while (first < end && to[static_cast<size_t>(first)] < 0) ++first;
      while (end > first && to[static_cast<size_t>(end) - 1] < 0) --end;
      return std::pair<int64_t, int64_t>(first, end);
    };
    const auto [place_first, place_end] = extent(place);
    const auto [held_first, held_end] =
        keep != nullptr ? extent(held_place) : std::pair<int64_t, int64_t>(0, 0);
    // Fixed-width values of rows [row, row + n) read, to their places (and held ones).
    auto place_values = [&](size_t cc, const uint8_t* values, int64_t row, int64_t n, bool has_null,
                            auto is_null) -> Status {
      const int width = d.width[cc];
      {
        const int64_t b = std::max(row, place_first), e = std::min(row + n, place_end);
        if (b < e) {
          PlaceFixedWidth(values + (b - row) * width, e - b, place.data() + b, width,
                          d.values[cc]->mutable_data());
          if (has_null) {
            INTRADAY_RETURN_NOT_OK(
                mark_nulls(cc, place.data() + b, e - b, [&](int64_t i) { return is_null(i + b - row); }));
          }
        }
      }
      const int64_t b = std::max(row, held_first), e = std::min(row + n, held_end);
      if (b >= e) return Status::OK();
      const int64_t* to = held_place.data() + b;
      PlaceFixedWidth(values + (b - row) * width, e - b, to, width, held_values[cc]->mutable_data());
      if (!has_null) return Status::OK();
      std::vector<uint8_t>& valid = held_valid[cc];
      if (valid.empty()) valid.assign(static_cast<size_t>(n_held), 1);
      for (int64_t i = 0; i < e - b; ++i) {
        if (to[i] >= 0 && is_null(i + b - row)) valid[static_cast<size_t>(to[i])] = 0;
      }
      return Status::OK();
    };
    // The file's readers: a time slice's kept from the last read of the piece, else opened here.
    // Fixed-width columns of a local file straight from their pages where their Parquet type
    // allows (io/column_pages.h); the others through the Arrow reader, as every column of a file
    // on an object store.
    std::unique_ptr<PieceCursor> own;
    std::unique_ptr<PieceCursor>& cursor = slice != nullptr ? slice->cursors[p] : own;
    if (file_end > file_first && cursor == nullptr) {
      cursor = std::make_unique<PieceCursor>();
      INTRADAY_ASSIGN_OR_RAISE(cursor->pages,
                               RowGroupPages::Open(lake.fs(), pieces[p].input->path, display_path,
                                                   pieces[p].metadata, pieces[p].row_group));
      cursor->columns.resize(n_columns);
      size_t direct = 0;
      for (const auto& name : columns[t].columns) {
        if (name == "ListingId") continue;
        const int i = d.schema->GetFieldIndex(name);
        const int own_index = pieces[p].schema->GetFieldIndex(name);
        if (i < 0 || own_index < 0 ||
            !pieces[p].schema->field(own_index)->type()->Equals(*d.schema->field(i)->type()))
          return columns_change();
        const auto cc = static_cast<size_t>(i);
        if (cursor->pages != nullptr && d.width[cc] > 0) {
          INTRADAY_ASSIGN_OR_RAISE(cursor->columns[cc],
                                   cursor->pages->Column(name, *d.schema->field(i)->type()));
        }
        if (cursor->columns[cc] != nullptr) {
          ++direct;
        } else {
          cursor->read.push_back(name);
        }
      }
      if (direct + cursor->read.size() + 1 != n_columns) return columns_change();
      page_chunks += static_cast<int64_t>(direct);
      arrow_chunks += static_cast<int64_t>(cursor->read.size());
    }
    if (file_end > file_first && cursor->next_row != file_first)
      return Status::Invalid(display_path, ": read from row ", file_first, " where the last read ended at ",
                             cursor->next_row);
    // Columns from their pages, a cache-sized chunk at a time.
    if (file_end > file_first) {
      std::vector<uint8_t> chunk_values;
      std::vector<uint8_t> chunk_valid(kChunkRows);
      for (size_t cc = 0; cc < n_columns; ++cc) {
        FixedColumnPages* column = cursor->columns[cc].get();
        if (column == nullptr) continue;
        chunk_values.resize(static_cast<size_t>(kChunkRows * d.width[cc]));
        for (int64_t row = n_in; row < n_rows;) {
          bool has_null = false;
          INTRADAY_ASSIGN_OR_RAISE(const int64_t n,
                                   column->Next(std::min(kChunkRows, n_rows - row), chunk_values.data(),
                                                chunk_valid.data(), &has_null));
          if (n == 0) return Status::Invalid(display_path, ": rows change between reads");
          INTRADAY_RETURN_NOT_OK(place_values(cc, chunk_values.data(), row, n, has_null, [&](int64_t r) {
            return chunk_valid[static_cast<size_t>(r)] == 0;
          }));
          row += n;
        }
      }
    }
    // Batches: the held rows (every column), then the file's through the Arrow reader (its
    // columns), up to the read's end; what it decoded past that waits for the next read.
    if (file_end > file_first && !cursor->read.empty() && cursor->reader == nullptr) {
      INTRADAY_ASSIGN_OR_RAISE(cursor->reader,
                               OpenPiece(lake, pieces[p], columns[t].table, cursor->read, kPieceBatchRows));
    }
    const bool from_reader = file_end > file_first && cursor->reader != nullptr;
    int64_t row = 0;  // of the next batch, among the rows read
    bool held_read = held_in == nullptr;
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      if (!held_read) {
        batch = held_in;
        held_read = true;
      } else if (row < n_rows && from_reader) {
        if (cursor->pending != nullptr) {
          batch = std::move(cursor->pending);
        } else {
          INTRADAY_ASSIGN_OR_RAISE(batch, cursor->reader->Next());
          if (batch == nullptr) return Status::Invalid(display_path, ": rows change between reads");
        }
        if (batch->num_rows() > n_rows - row) {
          cursor->pending = batch->Slice(n_rows - row);
          batch = batch->Slice(0, n_rows - row);
        }
      } else {
        break;
      }
      std::vector<int> to;  // per column, its column in the table's schema
      for (int c = 0; c < batch->num_columns(); ++c) {
        const int i = d.schema->GetFieldIndex(batch->schema()->field(c)->name());
        if (i < 0 || !batch->column(c)->type()->Equals(*d.schema->field(i)->type())) return columns_change();
        to.push_back(i);
      }
      const int64_t n = batch->num_rows();
      if (row + n > n_rows) return Status::Invalid(display_path, ": rows change between reads");
      const std::span<const int32_t> slot(piece_slots.data() + row, static_cast<size_t>(n));
      std::vector<int> other;
      for (int c = 0; c < batch->num_columns(); ++c) {
        const auto cc = static_cast<size_t>(to[static_cast<size_t>(c)]);
        const int width = d.width[cc];
        if (width == 0) {
          other.push_back(c);
          continue;
        }
        const arrow::ArrayData& src = *batch->column_data(c);
        INTRADAY_RETURN_NOT_OK(place_values(cc, src.buffers[1]->data() + src.offset * width, row, src.length,
                                            src.GetNullCount() != 0,
                                            [&](int64_t r) { return !src.IsValid(r); }));
      }
      if (!other.empty()) {
        INTRADAY_ASSIGN_OR_RAISE(auto sub, batch->SelectColumns(other));
        Grouped g;
        auto regrouped = GroupRowsBySlots(*sub, slot, slots, &g.starts);
        if (!regrouped.ok())
          return regrouped.status().WithMessage(display_path, ": ", regrouped.status().message());
        g.batch = *std::move(regrouped);
        grouped[p].push_back(std::move(g));
        if (keep != nullptr) {
          std::vector<int64_t> starts;
          INTRADAY_ASSIGN_OR_RAISE(
              auto kept,
              GroupRowsBySlots(*sub, std::span<const int32_t>(held_slot.data() + row, n), 1, &starts));
          for (int c = 0; c < kept->num_columns(); ++c)
            held_other[kept->schema()->field(c)->name()].push_back(kept->column(c));
        }
      }
      row += n;
    }
    if (row != (from_reader ? n_rows : n_in))
      return Status::Invalid(display_path, ": rows change between reads");
    if (file_end > file_first) cursor->next_row = file_end;
    if (file_end == group_rows) {
      cursor.reset();
    } else if (cursor != nullptr) {
      // Kept for the next slice: the file pages it has passed need not stay resident till then.
      if (cursor->pages != nullptr && cursor->pages->ReleaseReadPages() > 0) ++released;
      if (cursor->reader != nullptr && cursor->reader->ReleaseReadPages() > 0) ++released;
    }
    row_slots[p] = {};
    if (keep == nullptr) return Status::OK();
    // The held rows as one batch in the table's column order (ListingId aside).
    arrow::FieldVector fields;
    arrow::ArrayVector arrays;
    for (size_t c = 0; c < n_columns; ++c) {
      if (static_cast<int>(c) == d.id_column) continue;
      const auto& field = d.schema->field(static_cast<int>(c));
      std::shared_ptr<arrow::Array> array;
      if (d.width[c] > 0) {
        std::shared_ptr<arrow::Buffer> validity;
        int64_t nulls = 0;
        if (!held_valid[c].empty()) {
          INTRADAY_ASSIGN_OR_RAISE(validity, arrow::AllocateBitmap(n_held));
          const uint8_t* valid = held_valid[c].data();
          int64_t i = 0;
          arrow::internal::GenerateBitsUnrolled(validity->mutable_data(), 0, n_held,
                                                [&] { return valid[i++] != 0; });
          nulls = std::count(valid, valid + n_held, uint8_t{0});
        }
        array = arrow::MakeArray(
            arrow::ArrayData::Make(field->type(), n_held, {validity, held_values[c]}, nulls));
      } else {
        const arrow::ArrayVector& parts = held_other[field->name()];
        if (parts.empty()) {
          INTRADAY_ASSIGN_OR_RAISE(array, arrow::MakeEmptyArray(field->type()));
        } else {
          INTRADAY_ASSIGN_OR_RAISE(array, arrow::Concatenate(parts));
        }
      }
      if (array->length() != n_held) return Status::Invalid(display_path, ": held column lengths differ");
      fields.push_back(field);
      arrays.push_back(std::move(array));
    }
    (*held)[p] = arrow::RecordBatch::Make(arrow::schema(std::move(fields)), n_held, std::move(arrays));
    return Status::OK();
  }));

  *page_column_chunks += page_chunks;
  *arrow_column_chunks += arrow_chunks;
  if (slice != nullptr) slice->released_readers += released;

  // 4b. The front rows' fixed-width values (their other columns join in step 5), listing by
  // listing on every thread: a few rows each, but hundreds of listings, tables and columns (on
  // one thread: ~4% of a 200-listing sliced worker's samples). A front batch's columns are read
  // as ArrayData: boxing them as Arrays (GetColumnByName) allocated for each.
  // Per table, each column's index among the front rows' (-1: not a column of that table).
  std::vector<std::vector<int>> front_column(columns.size());
  for (size_t t = 0; t < columns.size(); ++t) {
    const CarriedRows* carried = front_of(t);
    const Destination& d = dest[t];
    if (carried == nullptr || d.schema == nullptr) continue;
    const arrow::Schema& from_schema = *carried->rows->schema();
    for (int c = 0; c < d.schema->num_fields(); ++c) {
      const arrow::Field& field = *d.schema->field(c);
      int from = -1;
      if (c != d.id_column) {
        from = from_schema.GetFieldIndex(field.name());
        if (from < 0 || !from_schema.field(from)->type()->Equals(*field.type()))
          return Status::Invalid("front rows of table ", SpecOf(columns[t].table).key, " lack column ",
                                 field.name());
      }
      front_column[t].push_back(from);
    }
  }
  for (size_t t = 0; t < columns.size(); ++t) {
    Destination& d = dest[t];
    const CarriedRows* carried = front_of(t);
    if (d.schema == nullptr || carried == nullptr) continue;
    INTRADAY_RETURN_NOT_OK(ParallelFor(slots, task.threads, [&](size_t s) -> Status {
      const int64_t n = carried->count(s);
      if (n == 0) return Status::OK();
      const int64_t at = listing_start[t][s];
      const int64_t first = carried->start[s];
      for (int c = 0; c < d.schema->num_fields(); ++c) {
        const auto cc = static_cast<size_t>(c);
        const int width = d.width[cc];
        if (width == 0) continue;
        const arrow::ArrayData& src = *carried->rows->column_data(front_column[t][cc]);
        std::memcpy(d.values[cc]->mutable_data() + at * width,
                    src.buffers[1]->data() + (src.offset + first) * width, static_cast<size_t>(n * width));
        if (src.GetNullCount() == 0) continue;
        INTRADAY_ASSIGN_OR_RAISE(uint8_t* const bits, d.ValidBits(cc, total[t]));
        for (int64_t r = 0; r < n; ++r) {
          if (!src.IsValid(first + r)) ClearBit(bits, at + r);
        }
      }
      return Status::OK();
    }));
  }

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
        validity = std::move(d.valid[cc]);
        nulls = total[t] - arrow::internal::CountSetBits(validity->data(), 0, total[t]);
      }
      array = arrow::MakeArray(arrow::ArrayData::Make(type, total[t], {validity, d.values[cc]}, nulls));
      return Status::OK();
    }
    arrow::ArrayVector slices;
    const CarriedRows* carried = front_of(t);
    const std::shared_ptr<arrow::Array> front_values =
        carried == nullptr ? nullptr : carried->rows->column(front_column[t][cc]);
    for (size_t s = 0; s < slots; ++s) {
      if (const int64_t n = front_rows(t, s); n > 0)
        slices.push_back(front_values->Slice(carried->start[s], n));
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
  // Test hook (docs/engine.md "Test hooks"): every table left as it is, as one this cannot sort.
  const bool sort_in_place = std::getenv("INTRADAY_TEST_NO_SORT_IN_PLACE") == nullptr;
  for (size_t t = 0; t < columns.size(); ++t) {
    const std::shared_ptr<arrow::RecordBatch>& batch = placed[t].batch;
    if (batch == nullptr || !sort_in_place) continue;
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

Result<std::vector<PlacedTable>> ReadTablesGrouped(const Lake& lake, const std::vector<TableColumns>& columns,
                                                   const std::vector<InputPiece>& pieces,
                                                   const std::vector<size_t>& order, const Task& task,
                                                   const ListingSlots& slot_of, int64_t* input_rows,
                                                   int64_t* sorted_blocks, int64_t* page_column_chunks,
                                                   int64_t* arrow_column_chunks) {
  INTRADAY_ASSIGN_OR_RAISE(PieceSlots piece_slots,
                           ReadPieceSlots(lake, columns, pieces, order, task, slot_of, input_rows));
  return PlaceTables(lake, columns, pieces, order, task, std::move(piece_slots), sorted_blocks,
                     page_column_chunks, arrow_column_chunks);
}

}  // namespace intraday
