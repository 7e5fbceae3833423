#include "io/group_rows.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <numeric>

#include <arrow/array.h>
#include <arrow/buffer.h>
#include <arrow/util/bit_util.h>

namespace intraday {
namespace {

/// One column's rows moved to their places: row i of `src` becomes row place[i] of the result
/// (place[i] < 0: dropped), `rows` rows in all. One sequential pass over the source, writing to
/// one sequential stream per route slot (where Arrow's Take would read the source at random).
Result<std::shared_ptr<arrow::ArrayData>> ScatterColumn(const arrow::ArrayData& src, const int32_t* place,
                                                        int64_t rows, size_t column,
                                                        ScatterBuffers* buffers) {
  // Buffer `index` of the result: kept memory (ScatterBuffers) or fresh.
  auto allocate = [&](size_t index, int64_t size) -> Result<std::shared_ptr<arrow::Buffer>> {
    if (buffers != nullptr) return buffers->Get(column, index, size);
    INTRADAY_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Buffer> fresh, arrow::AllocateBuffer(size));
    return fresh;
  };
  // A bitmap's bits past the last row are 0 (as arrow::AllocateBitmap leaves them).
  auto allocate_bitmap = [&](size_t index) -> Result<std::shared_ptr<arrow::Buffer>> {
    const int64_t bytes = arrow::bit_util::BytesForBits(rows);
    INTRADAY_ASSIGN_OR_RAISE(auto bitmap, allocate(index, bytes));
    if (bytes > 0) bitmap->mutable_data()[bytes - 1] = 0;
    return bitmap;
  };
  const int64_t n = src.length;
  std::shared_ptr<arrow::Buffer> validity;
  int64_t null_count = 0;
  if (src.MayHaveNulls()) {
    INTRADAY_ASSIGN_OR_RAISE(validity, allocate_bitmap(0));
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
    INTRADAY_ASSIGN_OR_RAISE(auto offsets_buffer, allocate(1, (rows + 1) * 4));
    auto* offsets = reinterpret_cast<int32_t*>(offsets_buffer->mutable_data());
    const int32_t* in = src.GetValues<int32_t>(1);
    offsets[0] = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (place[i] >= 0) offsets[place[i] + 1] = in[i + 1] - in[i];
    }
    for (int64_t r = 0; r < rows; ++r) offsets[r + 1] += offsets[r];
    INTRADAY_ASSIGN_OR_RAISE(auto chars, allocate(2, offsets[rows]));
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
    INTRADAY_ASSIGN_OR_RAISE(auto values, allocate_bitmap(1));
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
  INTRADAY_ASSIGN_OR_RAISE(auto values, allocate(1, rows * std::max(width, 8) / 8));
  switch (width) {
    case 64: scatter(reinterpret_cast<uint64_t*>(values->mutable_data())); break;
    case 32: scatter(reinterpret_cast<uint32_t*>(values->mutable_data())); break;
    case 16: scatter(reinterpret_cast<uint16_t*>(values->mutable_data())); break;
    case 8: scatter(reinterpret_cast<uint8_t*>(values->mutable_data())); break;
    default: return Status::Invalid("cannot regroup by listing a column of type ", type->ToString());
  }
  return arrow::ArrayData::Make(type, rows, {validity, std::move(values)}, null_count);
}

/// The width in bytes of a column SortBlockInPlace moves value by value; 0 for booleans and
/// strings, -1 for a type it cannot move.
int ValueWidth(const arrow::DataType& type) {
  if (type.id() == arrow::Type::BOOL || type.id() == arrow::Type::STRING) return 0;
  const auto* fixed = dynamic_cast<const arrow::FixedWidthType*>(&type);
  if (fixed == nullptr || type.id() == arrow::Type::DICTIONARY) return -1;
  const int bits = fixed->bit_width();
  return bits == 8 || bits == 16 || bits == 32 || bits == 64 ? bits / 8 : -1;
}

/// Moves bit first + order[k] to bit first + k, for k < order.size(). The first and last bytes
/// of the range may hold bits of a neighbouring block that another thread sorts at the same time:
/// they are read and written atomically; the others belong to this block alone.
void PermuteBits(uint8_t* bits, int64_t first, std::span<const int64_t> order,
                 std::vector<uint8_t>* scratch) {
  const auto m = static_cast<int64_t>(order.size());
  const int64_t first_byte = first / 8, last_byte = (first + m - 1) / 8;
  auto shared = [&](int64_t byte) { return byte == first_byte || byte == last_byte; };
  scratch->resize(static_cast<size_t>(m));
  for (int64_t k = 0; k < m; ++k) {
    const int64_t bit = first + k;
    const uint8_t byte = shared(bit / 8)
                             ? std::atomic_ref<uint8_t>(bits[bit / 8]).load(std::memory_order_relaxed)
                             : bits[bit / 8];
    (*scratch)[static_cast<size_t>(k)] = static_cast<uint8_t>((byte >> (bit % 8)) & 1);
  }
  for (int64_t k = 0; k < m; ++k) {
    const int64_t bit = first + k;
    const bool value = (*scratch)[static_cast<size_t>(order[static_cast<size_t>(k)])] != 0;
    if (!shared(bit / 8)) {
      arrow::bit_util::SetBitTo(bits, bit, value);
      continue;
    }
    std::atomic_ref<uint8_t> byte(bits[bit / 8]);
    const auto mask = static_cast<uint8_t>(1u << (bit % 8));
    if (value) {
      byte.fetch_or(mask, std::memory_order_relaxed);
    } else {
      byte.fetch_and(static_cast<uint8_t>(~mask), std::memory_order_relaxed);
    }
  }
}

template <typename T>
void PermuteValues(T* values, std::span<const int64_t> order, std::vector<uint64_t>* scratch) {
  scratch->resize((order.size() * sizeof(T) + 7) / 8);
  T* moved = reinterpret_cast<T*>(scratch->data());
  for (size_t k = 0; k < order.size(); ++k) moved[k] = values[order[k]];
  std::memcpy(values, moved, order.size() * sizeof(T));
}

/// Rows [begin, begin + order.size()) of a string column reordered: the block's characters keep
/// their byte range (a permutation of its strings has the same total length), so only the
/// block's own offsets and characters are rewritten.
void PermuteStrings(arrow::ArrayData* data, int64_t begin, std::span<const int64_t> order,
                    std::vector<uint8_t>* scratch) {
  int32_t* offsets = data->GetMutableValues<int32_t>(1) + begin;
  uint8_t* chars = data->buffers[2] != nullptr ? data->buffers[2]->mutable_data() : nullptr;
  const auto m = order.size();
  const int32_t base = offsets[0];
  scratch->resize(static_cast<size_t>(offsets[m] - base));
  std::vector<int32_t> starts(m);
  int32_t at = 0;
  for (size_t k = 0; k < m; ++k) {
    const int64_t row = order[k];
    const int32_t length = offsets[row + 1] - offsets[row];
    if (length > 0) std::memcpy(scratch->data() + at, chars + offsets[row], static_cast<size_t>(length));
    starts[k] = base + at;
    at += length;
  }
  if (!scratch->empty()) std::memcpy(chars + base, scratch->data(), scratch->size());
  for (size_t k = 1; k < m; ++k) offsets[k] = starts[k];
}

}  // namespace

Result<std::shared_ptr<arrow::Buffer>> ScatterBuffers::Get(size_t column, size_t index, int64_t size) {
  if (kept_.size() <= column) kept_.resize(column + 1);
  std::shared_ptr<arrow::ResizableBuffer>& kept = kept_[column][index];
  // use_count 1: the batch it was lent to is gone (written, released); one still held elsewhere
  // is left to its holders.
  if (kept != nullptr && kept.use_count() == 1 && kept->capacity() >= size) {
    INTRADAY_RETURN_NOT_OK(kept->Resize(size, /*shrink_to_fit=*/false));
    return kept;
  }
  INTRADAY_ASSIGN_OR_RAISE(auto fresh, arrow::AllocateResizableBuffer(size));
  kept = std::shared_ptr<arrow::ResizableBuffer>(std::move(fresh));
  return kept;
}

Status CheckSortableInPlace(const arrow::RecordBatch& batch, int key_column) {
  if (key_column < 0 || key_column >= batch.num_columns())
    return Status::Invalid("no key column ", key_column, " to sort by");
  const auto& key = *batch.column_data(key_column);
  if (key.type->id() != arrow::Type::INT64 && key.type->id() != arrow::Type::TIMESTAMP)
    return Status::Invalid("column ", batch.schema()->field(key_column)->name(), ": cannot sort by type ",
                           key.type->ToString());
  if (key.GetNullCount() != 0)
    return Status::Invalid("column ", batch.schema()->field(key_column)->name(), ": has nulls");
  for (int c = 0; c < batch.num_columns(); ++c) {
    const auto& data = *batch.column_data(c);
    const std::string& name = batch.schema()->field(c)->name();
    if (ValueWidth(*data.type) < 0)
      return Status::Invalid("column ", name, ": cannot move type ", data.type->ToString());
    for (const auto& buffer : data.buffers) {
      if (buffer != nullptr && !buffer->is_mutable())
        return Status::Invalid("column ", name, ": read-only buffers");
    }
  }
  return Status::OK();
}

Result<bool> SortBlockInPlace(const arrow::RecordBatch& batch, int key_column, int64_t begin, int64_t end) {
  if (begin < 0 || end > batch.num_rows() || end - begin < 2) return false;
  const int64_t* keys = batch.column_data(key_column)->GetValues<int64_t>(1) + begin;
  const int64_t m = end - begin;
  if (std::is_sorted(keys, keys + m)) return false;
  std::vector<int64_t> order(static_cast<size_t>(m));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return keys[a] < keys[b]; });
  std::vector<uint64_t> values_scratch;
  std::vector<uint8_t> bytes_scratch;
  // The key column last: the order was computed from it.
  std::vector<int> columns;
  for (int c = 0; c < batch.num_columns(); ++c) {
    if (c != key_column) columns.push_back(c);
  }
  columns.push_back(key_column);
  for (const int c : columns) {
    arrow::ArrayData& data = *batch.column_data(c);
    if (data.buffers[0] != nullptr) {
      PermuteBits(data.buffers[0]->mutable_data(), data.offset + begin, order, &bytes_scratch);
    }
    switch (ValueWidth(*data.type)) {
      case 8: PermuteValues(data.GetMutableValues<uint64_t>(1) + begin, order, &values_scratch); break;
      case 4: PermuteValues(data.GetMutableValues<uint32_t>(1) + begin, order, &values_scratch); break;
      case 2: PermuteValues(data.GetMutableValues<uint16_t>(1) + begin, order, &values_scratch); break;
      case 1: PermuteValues(data.GetMutableValues<uint8_t>(1) + begin, order, &values_scratch); break;
      case 0:
        if (data.type->id() == arrow::Type::BOOL) {
          PermuteBits(data.buffers[1]->mutable_data(), data.offset + begin, order, &bytes_scratch);
        } else {
          PermuteStrings(&data, begin, order, &bytes_scratch);
        }
        break;
      default: return Status::Invalid("column ", batch.schema()->field(c)->name(), ": cannot move its type");
    }
  }
  return true;
}

template <typename Place>
void PlaceRowsBySlot(std::span<const int32_t> slot_of_row, size_t slots, std::vector<int64_t>* starts,
                     std::vector<Place>* place) {
  starts->assign(slots + 1, 0);
  for (const int32_t slot : slot_of_row) {
    if (slot >= 0) ++(*starts)[static_cast<size_t>(slot) + 1];
  }
  for (size_t slot = 1; slot < starts->size(); ++slot) (*starts)[slot] += (*starts)[slot - 1];
  place->assign(slot_of_row.size(), -1);
  std::vector<int64_t> next(starts->begin(), starts->end() - 1);
  for (size_t i = 0; i < slot_of_row.size(); ++i) {
    const int32_t slot = slot_of_row[i];
    if (slot >= 0) (*place)[i] = static_cast<Place>(next[static_cast<size_t>(slot)]++);
  }
}

template void PlaceRowsBySlot<int32_t>(std::span<const int32_t>, size_t, std::vector<int64_t>*,
                                       std::vector<int32_t>*);
template void PlaceRowsBySlot<int64_t>(std::span<const int32_t>, size_t, std::vector<int64_t>*,
                                       std::vector<int64_t>*);

Result<std::shared_ptr<arrow::RecordBatch>> GroupRowsBySlots(const arrow::RecordBatch& batch,
                                                             std::span<const int32_t> slot_of_row,
                                                             size_t slots, std::vector<int64_t>* starts,
                                                             ScatterBuffers* buffers) {
  const int64_t n = batch.num_rows();
  if (static_cast<int64_t>(slot_of_row.size()) != n)
    return Status::Invalid("a slot for each of ", n, " rows, got ", slot_of_row.size());
  if (n > INT32_MAX) return Status::CapacityError("a record batch of ", n, " rows");
  std::vector<int32_t> place;
  PlaceRowsBySlot(slot_of_row, slots, starts, &place);
  const int64_t rows = starts->back();
  std::vector<std::shared_ptr<arrow::ArrayData>> columns(static_cast<size_t>(batch.num_columns()));
  for (int c = 0; c < batch.num_columns(); ++c) {
    auto column = ScatterColumn(*batch.column_data(c), place.data(), rows, static_cast<size_t>(c), buffers);
    if (!column.ok()) {
      return column.status().WithMessage("column ", batch.schema()->field(c)->name(), ": ",
                                         column.status().message());
    }
    columns[static_cast<size_t>(c)] = *std::move(column);
  }
  return arrow::RecordBatch::Make(batch.schema(), rows, std::move(columns));
}

int FixedByteWidth(const arrow::DataType& type) {
  const auto* fixed = dynamic_cast<const arrow::FixedWidthType*>(&type);
  if (fixed == nullptr || type.id() == arrow::Type::BOOL || fixed->bit_width() % 8 != 0) return 0;
  const int width = fixed->bit_width() / 8;
  return width == 1 || width == 2 || width == 4 || width == 8 ? width : 0;
}

namespace {
template <typename T>
void PlaceValues(const uint8_t* in, int64_t count, const int64_t* place, uint8_t* out) {
  const T* from = reinterpret_cast<const T*>(in);
  T* to = reinterpret_cast<T*>(out);
  for (int64_t i = 0; i < count; ++i) {
    if (place[i] >= 0) to[place[i]] = from[i];
  }
}
}  // namespace

void PlaceFixedWidth(const uint8_t* in, int64_t count, const int64_t* place, int width, uint8_t* out) {
  switch (width) {
    case 8: PlaceValues<uint64_t>(in, count, place, out); break;
    case 4: PlaceValues<uint32_t>(in, count, place, out); break;
    case 2: PlaceValues<uint16_t>(in, count, place, out); break;
    default: PlaceValues<uint8_t>(in, count, place, out); break;
  }
}

void SlotsOfRows(const arrow::ArrayData& ids, const ListingSlots& slot_of, std::vector<int32_t>* slots) {
  const auto* id = ids.GetValues<int64_t>(1);
  slots->resize(static_cast<size_t>(ids.length));
  int32_t* out = slots->data();
  if (ids.GetNullCount() == 0) {
    for (int64_t i = 0; i < ids.length; ++i) out[i] = slot_of.Find(id[i]);
    return;
  }
  for (int64_t i = 0; i < ids.length; ++i) out[i] = ids.IsValid(i) ? slot_of.Find(id[i]) : -1;
}

Result<std::shared_ptr<arrow::RecordBatch>> GroupRowsBySlot(const arrow::RecordBatch& batch,
                                                            const ListingSlots& slot_of, size_t slots,
                                                            std::vector<int64_t>* starts,
                                                            ScatterBuffers* buffers) {
  const int listing_column = batch.schema()->GetFieldIndex("ListingId");
  if (listing_column < 0) return Status::Invalid("no ListingId column");
  std::vector<int32_t> slot_of_row;
  SlotsOfRows(*batch.column_data(listing_column), slot_of, &slot_of_row);
  return GroupRowsBySlots(batch, slot_of_row, slots, starts, buffers);
}

}  // namespace intraday
