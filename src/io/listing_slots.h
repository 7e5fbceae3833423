// ListingId -> slot lookups for routing and grouping rows by listing: every row of a read batch
// asks for its listing's slot, so the lookup is a table index where the ids allow it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <vector>

namespace intraday {

/// The slots of a set of listings (any int32 per ListingId). A dense table over [min id, max id]
/// when that range is at most kDenseFactor times the number of listings (or small): vendor ids
/// come in blocks, so a day's universe spans few gaps. Otherwise a hash map.
class ListingSlots {
 public:
  static constexpr int64_t kDenseFactor = 16;
  static constexpr int64_t kAlwaysDense = 1 << 16;

  ListingSlots() = default;

  /// `slots[i]` is the slot of `ids[i]`; an id given twice keeps its first slot.
  ListingSlots(const std::vector<int64_t>& ids, const std::vector<int32_t>& slots) {
    if (ids.empty()) return;
    const auto [lo, hi] = std::minmax_element(ids.begin(), ids.end());
    const auto n = static_cast<int64_t>(ids.size());
    // Unsigned: a span over int64's whole range does not overflow.
    const uint64_t span = static_cast<uint64_t>(*hi) - static_cast<uint64_t>(*lo);
    if (span < static_cast<uint64_t>(std::max(kAlwaysDense, kDenseFactor * n))) {
      min_ = *lo;
      dense_.assign(static_cast<size_t>(span + 1), -1);
      for (size_t i = 0; i < ids.size(); ++i) {
        int32_t& slot = dense_[static_cast<uint64_t>(ids[i]) - static_cast<uint64_t>(min_)];
        if (slot < 0) slot = slots[i];
      }
      return;
    }
    sparse_.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) sparse_.emplace(ids[i], slots[i]);
  }

  /// Slots 0, 1, ... in the order of `ids`.
  static ListingSlots Numbered(const std::vector<int64_t>& ids) {
    std::vector<int32_t> slots(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) slots[i] = static_cast<int32_t>(i);
    return ListingSlots(ids, slots);
  }

  /// The slot of `id`, or -1 if it is not one of the listings.
  int32_t Find(int64_t id) const {
    if (!dense_.empty()) {
      // Unsigned: ids below the minimum wrap to large offsets and fail the one comparison.
      const auto offset = static_cast<uint64_t>(id) - static_cast<uint64_t>(min_);
      return offset < dense_.size() ? dense_[offset] : -1;
    }
    const auto it = sparse_.find(id);
    return it == sparse_.end() ? -1 : it->second;
  }

  bool dense() const { return !dense_.empty(); }

 private:
  int64_t min_ = 0;
  std::vector<int32_t> dense_;
  std::unordered_map<int64_t, int32_t> sparse_;
};

/// Rows' slots (-1: not one of the listings) kept for a while, in as few bytes a row as the
/// number of listings allows: one below 255 listings, two below 65 535, four beyond. A sliced
/// day keeps every input row's slot until its last slice (exec/sliced_day.cc): at four bytes
/// that was 33 MB of a 200-listing day's worker (docs/benchmarks.md, "Session 22").
class RowSlots {
 public:
  RowSlots() = default;
  explicit RowSlots(size_t listings) : width_(listings < 0xFF ? 1 : listings < 0xFFFF ? 2 : 4) {}

  void push_back(int32_t slot) {
    const uint32_t stored = static_cast<uint32_t>(slot + 1);  // 0: none
    const size_t at = bytes_.size();
    bytes_.resize(at + static_cast<size_t>(width_));
    if (width_ == 1) {
      bytes_[at] = static_cast<uint8_t>(stored);
    } else if (width_ == 2) {
      const auto narrow = static_cast<uint16_t>(stored);
      std::memcpy(&bytes_[at], &narrow, sizeof narrow);
    } else {
      std::memcpy(&bytes_[at], &stored, sizeof stored);
    }
  }

  int32_t operator[](size_t row) const {
    if (width_ == 1) return static_cast<int32_t>(bytes_[row]) - 1;
    if (width_ == 2) {
      uint16_t narrow;
      std::memcpy(&narrow, &bytes_[row * 2], sizeof narrow);
      return static_cast<int32_t>(narrow) - 1;
    }
    uint32_t stored;
    std::memcpy(&stored, &bytes_[row * 4], sizeof stored);
    return static_cast<int32_t>(stored - 1);
  }

  size_t size() const { return bytes_.size() / static_cast<size_t>(width_); }
  int width() const { return width_; }
  void reserve(size_t rows) { bytes_.reserve(rows * static_cast<size_t>(width_)); }

  /// Every row's slot at four bytes (PieceSlots::row_slots).
  std::vector<int32_t> Widened() const {
    std::vector<int32_t> slots(size());
    for (size_t r = 0; r < slots.size(); ++r) slots[r] = (*this)[r];
    return slots;
  }

 private:
  int width_ = 4;
  std::vector<uint8_t> bytes_;
};

}  // namespace intraday
