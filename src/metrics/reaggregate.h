// `reaggregate` (metrics.md, "Pass 2+"): maps listings to groups (an index, a sector: a universe
// column or a ListingId -> group file) and aggregates every column of an earlier pass per group
// and bucket by a rule (sum for flows, weighted mean for prices, spreads and ratios, last for
// states), with per-column overrides. docs/metrics/reaggregate.md.
#pragma once

#include <memory>

#include "config/yaml_reader.h"
#include "metrics/derived_module.h"

namespace intraday {

std::unique_ptr<DerivedModule> CreateReaggregateModule(const YamlValue& options,
                                                       const DerivedContext& context,
                                                       ConfigDiagnostics* diag);

}  // namespace intraday
