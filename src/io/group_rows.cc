#include "io/group_rows.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include <arrow/array.h>
#include <arrow/buffer.h>
#include <arrow/util/bit_util.h>

namespace intraday {
namespace {

/// One column's rows moved to their places: row i of `src` becomes row place[i] of the result
/// (place[i] < 0: dropped), `rows` rows in all. One sequential pass over the source, writing to
/// one sequential stream per route slot (where Arrow's Take would read the source at random).
Result<std::shared_ptr<arrow::ArrayData>> ScatterColumn(const arrow::ArrayData& src, const int32_t* place,
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
    default: return Status::Invalid("cannot regroup by listing a column of type ", type->ToString());
  }
  return arrow::ArrayData::Make(type, rows, {validity, std::move(values)}, null_count);
}

}  // namespace

Result<std::shared_ptr<arrow::RecordBatch>> GroupRowsBySlots(const arrow::RecordBatch& batch,
                                                             std::span<const int32_t> slot_of_row,
                                                             size_t slots, std::vector<int64_t>* starts) {
  const int64_t n = batch.num_rows();
  if (static_cast<int64_t>(slot_of_row.size()) != n)
    return Status::Invalid("a slot for each of ", n, " rows, got ", slot_of_row.size());
  if (n > INT32_MAX) return Status::CapacityError("a record batch of ", n, " rows");
  starts->assign(slots + 1, 0);
  for (const int32_t slot : slot_of_row) {
    if (slot >= 0) ++(*starts)[static_cast<size_t>(slot) + 1];
  }
  for (size_t slot = 1; slot < starts->size(); ++slot) (*starts)[slot] += (*starts)[slot - 1];
  // Places as int32: half the bytes re-read for every column.
  std::vector<int32_t> place(static_cast<size_t>(n), -1);
  std::vector<int64_t> next(starts->begin(), starts->end() - 1);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t slot = slot_of_row[static_cast<size_t>(i)];
    if (slot >= 0) place[static_cast<size_t>(i)] = static_cast<int32_t>(next[static_cast<size_t>(slot)]++);
  }
  const int64_t rows = starts->back();
  std::vector<std::shared_ptr<arrow::ArrayData>> columns(static_cast<size_t>(batch.num_columns()));
  for (int c = 0; c < batch.num_columns(); ++c) {
    auto column = ScatterColumn(*batch.column_data(c), place.data(), rows);
    if (!column.ok()) {
      return column.status().WithMessage("column ", batch.schema()->field(c)->name(), ": ",
                                         column.status().message());
    }
    columns[static_cast<size_t>(c)] = *std::move(column);
  }
  return arrow::RecordBatch::Make(batch.schema(), rows, std::move(columns));
}

Result<std::shared_ptr<arrow::RecordBatch>> GroupRowsBySlot(const arrow::RecordBatch& batch,
                                                            const ListingSlots& slot_of, size_t slots,
                                                            std::vector<int64_t>* starts) {
  const int listing_column = batch.schema()->GetFieldIndex("ListingId");
  if (listing_column < 0) return Status::Invalid("no ListingId column");
  const auto& ids = static_cast<const arrow::Int64Array&>(*batch.column(listing_column));
  // Each row's slot (-1: a listing without one, or a null id).
  std::vector<int32_t> slot_of_row(static_cast<size_t>(ids.length()), -1);
  for (int64_t i = 0; i < ids.length(); ++i) {
    if (ids.IsValid(i)) slot_of_row[static_cast<size_t>(i)] = slot_of.Find(ids.Value(i));
  }
  return GroupRowsBySlots(batch, slot_of_row, slots, starts);
}

}  // namespace intraday
