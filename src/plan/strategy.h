// The input strategy of a day (execution.md, "Pay for the strategies only when they are needed"):
//   - direct:     the plan has a single batch, so its worker reads the day's files itself;
//   - row_groups: every input file is clustered by ListingId (row_group_ranges.h), so each batch
//                 reads only the row groups holding its listings, with no shredding; chosen only
//                 if that reads at most kMaxRowGroupReadAmplification times the files' rows in
//                 total (row groups much coarser than batches would be read by many batches, and
//                 shredding reads each file once);
//   - shred:      otherwise; the reason names a file that is not clustered.
#pragma once

#include <string>
#include <vector>

#include "plan/day_plan.h"

namespace intraday {

/// Total rows the batches of a row-group plan may read, relative to the files' rows.
inline constexpr double kMaxRowGroupReadAmplification = 2.0;

struct StrategyChoice {
  InputStrategy strategy = InputStrategy::kDirect;
  std::string reason;
};

/// Chooses from the batches, the located input files and the budget (for the message).
StrategyChoice ChooseStrategy(const std::vector<Batch>& batches, const std::vector<InputFile>& files,
                              const std::vector<ListingSize>& sizes, uint64_t memory_budget);

}  // namespace intraday
