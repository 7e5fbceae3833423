// Column aggregation for the passes that read an earlier pass (generic, reaggregate): rows of a
// source column, already ordered, cut into runs (one run per output row), reduced by one
// function per column. Shared rules (docs/metrics/generic.md):
//   - Null values are skipped; a run without a non-null value gives null (count gives 0).
//   - first/last: the first/last non-null value in run order (the caller orders each run by
//     source bucket, then ListingId).
//   - sum keeps int64 columns int64; mean and weighted_mean give float64; first, last, min and
//     max keep the column's type (strings: first and last only).
//   - weighted_mean: sum(x * w) / sum(w) over the rows where both x and w are non-null; null when
//     that sum of weights is 0.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/array.h>
#include <arrow/type.h>

#include "common/status.h"

namespace intraday {

enum class AggregateFunction { kSum, kMean, kFirst, kLast, kMin, kMax, kCount, kWeightedMean };

inline constexpr std::string_view kAggregateFunctionNames[] = {"sum", "mean", "first", "last",
                                                               "min", "max",  "count", "weighted_mean"};
std::string_view ToString(AggregateFunction function);

/// The output type of `function` on a column of `input` type, or an error saying why the pair
/// is not allowed (e.g. sum of a string column).
Result<std::shared_ptr<arrow::DataType>> AggregateType(AggregateFunction function,
                                                       const std::shared_ptr<arrow::DataType>& input);

/// Runs: output row r reduces the source rows order[run_starts[r] .. run_starts[r + 1]) (the last
/// run ends at order.size()).
struct Runs {
  std::vector<int64_t> order;
  std::vector<size_t> run_starts;
  size_t size() const { return run_starts.size(); }
  size_t begin(size_t r) const { return run_starts[r]; }
  size_t end(size_t r) const { return r + 1 < run_starts.size() ? run_starts[r + 1] : order.size(); }
};

/// Reduces `values` (int64, float64 or utf8) run by run. `weights` (one per source row) is used by
/// kWeightedMean only.
Result<std::shared_ptr<arrow::Array>> AggregateRuns(const arrow::Array& values, const Runs& runs,
                                                    AggregateFunction function,
                                                    std::span<const std::optional<double>> weights = {});

/// A numeric column (int64 or float64) as optional doubles, for weights and indicators.
Result<std::vector<std::optional<double>>> AsOptionalDoubles(const arrow::Array& values);

}  // namespace intraday
