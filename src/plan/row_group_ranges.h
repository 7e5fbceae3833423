// What the ListingId ranges of a file's row groups (InputFile::row_groups, from the Parquet
// statistics) say about the file: whether it is clustered by listing, and which row groups a
// set of listings needs.
//
// Clustered, precisely: every row group that holds rows has ListingId min/max statistics, and
// in file order each row group's min is >= the previous row group's max. Equality is allowed:
// two adjacent row groups may share their boundary listing, which then continues from the end of
// one into the start of the next (min and max statistics are values that occur in the row
// group, so the listing is really in both). Consequences, which the row-group strategy relies
// on: every listing's rows lie in one contiguous run of row groups; two row groups share at most
// one listing, and only if every row group between them holds that listing alone; so a batch
// covering listings [a, b] reads exactly the contiguous run of row groups whose range meets
// [a, b], and shares at most its first and last row group with its neighbours. The order of rows
// inside a row group does not matter (a batch filters rows to its listings).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "plan/day_plan.h"

namespace intraday {

struct Clustering {
  bool clustered = false;
  std::string reason;  // why not, for the plan's strategy_reason; empty when clustered
};

/// Applies the definition above to a file's ranges (a file without rows is clustered).
Clustering CheckClustering(const InputFile& file);

/// The row groups (file order) whose ListingId range contains at least one of `listings`
/// (sorted): what a batch reads from a clustered file. Meant for clustered files, where the only
/// row groups without a range are empty ones.
std::vector<int> RowGroupsForListings(const InputFile& file, std::span<const int64_t> listings);

}  // namespace intraday
