// ListingId -> slot lookups for routing and grouping rows by listing: every row of a read batch
// asks for its listing's slot, so the lookup is a table index where the ids allow it.
#pragma once

#include <algorithm>
#include <cstdint>
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

}  // namespace intraday
