#include "io/arrow_compute.h"

#include <mutex>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/compute/initialize.h>

namespace intraday {

Status EnsureComputeInitialized() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] { status = arrow::compute::Initialize(); });
  return status;
}

Result<std::shared_ptr<arrow::RecordBatch>> KeepListings(const std::shared_ptr<arrow::RecordBatch>& batch,
                                                         const std::unordered_set<int64_t>& listings) {
  const auto& ids = static_cast<const arrow::Int64Array&>(*batch->GetColumnByName("ListingId"));
  arrow::BooleanBuilder keep;
  INTRADAY_RETURN_NOT_OK(keep.Reserve(ids.length()));
  bool all = true;
  for (int64_t i = 0; i < ids.length(); ++i) {
    const bool k = ids.IsValid(i) && listings.count(ids.Value(i)) != 0;
    all = all && k;
    keep.UnsafeAppend(k);
  }
  if (all) return batch;
  INTRADAY_ASSIGN_OR_RAISE(auto mask, keep.Finish());
  INTRADAY_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(batch, mask));
  return filtered.record_batch();
}

}  // namespace intraday
