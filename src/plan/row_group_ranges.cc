#include "plan/row_group_ranges.h"

#include <algorithm>

#include <fmt/format.h>

namespace intraday {
namespace {

// Index of the first row group (in file order) that holds rows but has no range: the ranges are
// listed in file order, so a gap in their indices is such a row group. -1 if the gap cannot be
// located (row groups after the last range).
int FirstRowGroupWithoutRange(const InputFile& file) {
  int expected = 0;
  for (const auto& range : file.row_groups) {
    if (range.index != expected) return expected;
    expected = range.index + 1;
  }
  return -1;
}

}  // namespace

Clustering CheckClustering(const InputFile& file) {
  if (file.rows == 0) return {true, ""};
  int64_t covered = 0;
  for (const auto& range : file.row_groups) covered += range.rows;
  if (covered < file.rows) {
    const int missing = FirstRowGroupWithoutRange(file);
    return {false, missing >= 0
                       ? fmt::format("row group {} has no ListingId statistics", missing)
                       : fmt::format("{} of its {} rows are in row groups without ListingId statistics",
                                     file.rows - covered, file.rows)};
  }
  for (size_t i = 1; i < file.row_groups.size(); ++i) {
    const auto& prev = file.row_groups[i - 1];
    const auto& cur = file.row_groups[i];
    if (cur.min_listing < prev.max_listing) {
      return {false,
              fmt::format("row groups {} and {} overlap: ListingId [{}, {}] then [{}, {}]", prev.index,
                          cur.index, prev.min_listing, prev.max_listing, cur.min_listing, cur.max_listing)};
    }
  }
  return {true, ""};
}

std::vector<int> RowGroupsForListings(const InputFile& file, std::span<const int64_t> listings) {
  std::vector<int> out;
  for (const auto& range : file.row_groups) {
    auto it = std::lower_bound(listings.begin(), listings.end(), range.min_listing);
    if (it != listings.end() && *it <= range.max_listing) out.push_back(range.index);
  }
  return out;
}

}  // namespace intraday
