// Arrow's compute kernels (cast, sort, take, filter) live in libarrow_compute, whose function
// registry must be initialised once per process before use.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_set>

#include <arrow/record_batch.h>

#include "common/status.h"

namespace intraday {

/// Initialises Arrow's compute function registry (thread-safe, idempotent).
Status EnsureComputeInitialized();

/// The rows of `batch` whose int64 `ListingId` is in `listings` (null ids dropped); the batch
/// itself, uncopied, when every row is kept.
Result<std::shared_ptr<arrow::RecordBatch>> KeepListings(const std::shared_ptr<arrow::RecordBatch>& batch,
                                                         const std::unordered_set<int64_t>& listings);

}  // namespace intraday
