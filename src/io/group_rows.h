// Regrouping the rows of a record batch by listing: a stable counting sort on a slot per
// ListingId, done by scattering each column in one sequential pass (one write stream per slot).
// The shredder routes rows to batches with it (slots ordered by batch, then ListingId), and a
// worker reading Parquet itself groups each read batch by listing with it, so that the rows of
// one listing are copied in runs, not one by one. A direct read then sorts, in place, the block of
// a listing whose rows are not in time order (SortBlockInPlace), so that every listing is one run.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <arrow/record_batch.h>

#include "common/status.h"
#include "io/listing_slots.h"

namespace intraday {

/// The memory GroupRowsBySlot(s) writes a batch's regrouped columns into, kept by a caller that
/// regroups read batch after read batch (the shredder) and passed to every call: a buffer that
/// nothing holds any more (its batch written and released) is written again instead of fresh
/// memory, whose pages the driver's allocator would have handed back and the kernel would fault
/// in and zero again (~3% of the samples of a shredded run).
class ScatterBuffers {
 public:
  /// A buffer of `size` bytes for buffer `index` of `column`: the kept one if nothing else holds
  /// it and it is large enough, else a new one, kept in its place.
  Result<std::shared_ptr<arrow::Buffer>> Get(size_t column, size_t index, int64_t size);

 private:
  std::vector<std::array<std::shared_ptr<arrow::ResizableBuffer>, 3>> kept_;  // per column
};

/// The rows of `batch` whose int64 `ListingId` has a slot in `slot_of` (slots 0..slots-1; other
/// listings and null ids dropped), grouped by slot in slot order, in their batch order within a
/// slot. `starts` receives slots + 1 entries: the first row of each slot, then the row count.
/// Numbers, timestamps, booleans and plain strings only (what the table reader hands out); another
/// type is an error naming the column.
/// With `buffers`, its columns are written into those (ScatterBuffers).
Result<std::shared_ptr<arrow::RecordBatch>> GroupRowsBySlot(const arrow::RecordBatch& batch,
                                                            const ListingSlots& slot_of, size_t slots,
                                                            std::vector<int64_t>* starts,
                                                            ScatterBuffers* buffers = nullptr);

/// The stable counting sort under GroupRowsBySlot(s): `starts` receives slots + 1 entries (the
/// first row of each slot in the grouped order, then the row count), and `place` each row's row in
/// that order (-1 where slot_of_row is negative: dropped). `Place` is int32_t (the scatter of a
/// read batch: half the bytes re-read for every column) or int64_t (PlaceFixedWidth).
template <typename Place>
void PlaceRowsBySlot(std::span<const int32_t> slot_of_row, size_t slots, std::vector<int64_t>* starts,
                     std::vector<Place>* place);

/// Bytes of a value of `type` where it is a fixed-width type of 1, 2, 4 or 8 bytes (booleans,
/// bit-packed, excluded); 0 otherwise.
int FixedByteWidth(const arrow::DataType& type);

/// `count` values of `width` bytes (FixedByteWidth) from `in` to their places in `out`:
/// value i to out[place[i]], or nowhere where place[i] < 0.
void PlaceFixedWidth(const uint8_t* in, int64_t count, const int64_t* place, int width, uint8_t* out);

/// The slot of each row of the int64 `ids` (-1: a listing without one, or a null id).
void SlotsOfRows(const arrow::ArrayData& ids, const ListingSlots& slot_of, std::vector<int32_t>* slots);

/// The same with every row's slot given (`slot_of_row`, one per row of `batch`; -1: dropped)
/// instead of looked up from a ListingId column, which `batch` then need not have.
Result<std::shared_ptr<arrow::RecordBatch>> GroupRowsBySlots(const arrow::RecordBatch& batch,
                                                             std::span<const int32_t> slot_of_row,
                                                             size_t slots, std::vector<int64_t>* starts,
                                                             ScatterBuffers* buffers = nullptr);

/// Whether SortBlockInPlace can permute every column of `batch`: numbers, timestamps, booleans and
/// plain strings in mutable buffers, and an int64 `key_column` without nulls. Otherwise an error
/// naming the column, and the caller leaves the rows as they are.
Status CheckSortableInPlace(const arrow::RecordBatch& batch, int key_column);

/// Sorts rows [begin, end) of `batch` by the int64 `key_column`, stably (equal keys keep their
/// order), by permuting every column's values within those rows in place; rows outside them are
/// untouched, so that blocks that do not overlap may be sorted by different threads at once (bits
/// in a byte shared with another block are written atomically). The batch must pass
/// CheckSortableInPlace. Returns whether the rows were out of order (false: nothing was written).
/// Needs, while it runs, 8 bytes per row of the block and one column's values of the block.
Result<bool> SortBlockInPlace(const arrow::RecordBatch& batch, int key_column, int64_t begin, int64_t end);

}  // namespace intraday
