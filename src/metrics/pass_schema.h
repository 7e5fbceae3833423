// The output schema of a pass of metric modules: ListingId, TimeBucket, then every module's
// columns in config order. Later passes (generic, reaggregate) read it to check their options.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/type.h>

#include "common/status.h"
#include "metrics/module.h"

namespace intraday {

/// The pass's output schema. When two modules name a column alike, the first (config order)
/// keeps the name and later ones are prefixed with ModulePrefix: l2's MarketState after trade's
/// becomes L2MarketState.
Result<std::shared_ptr<arrow::Schema>> PassOutputSchema(const std::vector<std::unique_ptr<Module>>& modules);

/// Bytes of one row of `schema` as a worker holds it: each fixed-width value and its validity
/// bit, 16 bytes for a string (offset and characters of a short label).
uint64_t OutputRowBytes(const arrow::Schema& schema);

/// "retail_imbalance" -> "RetailImbalance", "l2tw" -> "L2tw".
std::string ModulePrefix(std::string_view module);

std::shared_ptr<arrow::DataType> ArrowTypeOfValue(ValueType type);

}  // namespace intraday
