#include "plan/strategy.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/units.h"
#include "plan/row_group_ranges.h"

namespace intraday {
namespace {

// Rows that a row-group plan reads: for each batch and file, the rows of the row groups that
// hold one of the batch's listings.
int64_t RowGroupReadRows(const std::vector<Batch>& batches, const std::vector<InputFile>& files) {
  int64_t total = 0;
  for (const Batch& batch : batches) {
    for (const InputFile& file : files) {
      const std::vector<int> groups = RowGroupsForListings(file, batch.listings);
      for (const auto& range : file.row_groups) {
        if (std::binary_search(groups.begin(), groups.end(), range.index)) total += range.rows;
      }
    }
  }
  return total;
}

}  // namespace

StrategyChoice ChooseStrategy(const std::vector<Batch>& batches, const std::vector<InputFile>& files,
                              const std::vector<ListingSize>& sizes, uint64_t memory_budget) {
  if (batches.empty()) return {InputStrategy::kDirect, "nothing to compute: the day's universe is empty"};
  if (batches.size() == 1) {
    const Batch& only = batches.front();
    const bool all_known =
        std::all_of(sizes.begin(), sizes.end(), [](const ListingSize& s) { return s.estimated; });
    std::string reason;
    if (!all_known) {
      reason = "a single batch, whose size is not known (see warnings)";
    } else if (only.oversize) {
      reason = fmt::format("a single batch, over the budget: {} of {} for data",
                           FormatBytes(only.memory_bytes), FormatBytes(memory_budget));
    } else {
      reason = fmt::format("day fits one worker's budget: {} of {} for data", FormatBytes(only.memory_bytes),
                           FormatBytes(memory_budget));
    }
    return {InputStrategy::kDirect, std::move(reason)};
  }
  for (const InputFile& file : files) {
    const Clustering clustering = CheckClustering(file);
    if (!clustering.clustered) {
      return {InputStrategy::kShred, fmt::format("{} batches, and {} is not clustered by ListingId: {}",
                                                 batches.size(), file.display_path, clustering.reason)};
    }
  }
  int64_t file_rows = 0;
  for (const InputFile& file : files) file_rows += file.rows;
  const int64_t read_rows = RowGroupReadRows(batches, files);
  const double amplification =
      file_rows > 0 ? static_cast<double>(read_rows) / static_cast<double>(file_rows) : 1.0;
  if (amplification > kMaxRowGroupReadAmplification) {
    return {InputStrategy::kShred,
            fmt::format(
                "{} batches; all {} files are clustered by ListingId, but their row groups are too coarse: "
                "reading each batch's row groups would read {:.1f}x the files' rows (limit {:.0f}x)",
                batches.size(), files.size(), amplification, kMaxRowGroupReadAmplification)};
  }
  return {InputStrategy::kRowGroups,
          fmt::format(
              "{} batches; all {} files are clustered by ListingId (batches read {:.2f}x the files' rows)",
              batches.size(), files.size(), amplification)};
}

}  // namespace intraday
