// The assembly of modules' per-listing OutputBlocks into Arrow record batches.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/builder.h>
#include <arrow/record_batch.h>

#include "common/status.h"
#include "metrics/module.h"
#include "metrics/pass_schema.h"

namespace intraday {

/// Collects rows listing by listing; cuts a record batch every `batch_rows` rows. Output rows
/// are wide (one column per metric: ~150 for trade + l2 + l2tw + l3), and the driver holds one
/// or two of these batches when it writes the day: 16K rows are ~20 MiB of them.
class OutputAssembler {
 public:
  static constexpr int64_t kBatchRows = 16 * 1024;

  OutputAssembler(std::shared_ptr<arrow::Schema> schema, const std::vector<std::unique_ptr<Module>>& modules,
                  int64_t batch_rows = kBatchRows);

  /// One listing-day: its labels and one block per module (same order as the modules).
  Status Append(int64_t listing_id, std::span<const int64_t> labels, const std::vector<OutputBlock>& blocks);
  Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> Finish();

 private:
  Status Flush();

  std::shared_ptr<arrow::Schema> schema_;
  int64_t batch_rows_;
  std::vector<std::unique_ptr<arrow::ArrayBuilder>> builders_;
  int64_t pending_rows_ = 0;
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches_;
};

}  // namespace intraday
