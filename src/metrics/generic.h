// `generic` (metrics.md, "Pass 2+"): reads an earlier pass's output, joins universe columns,
// resamples to the pass's coarser bucket, groups by the configured keys, aggregates each
// configured column, then computes indicators per group over time. docs/metrics/generic.md.
#pragma once

#include <memory>

#include "config/yaml_reader.h"
#include "metrics/derived_module.h"

namespace intraday {

std::unique_ptr<DerivedModule> CreateGenericModule(const YamlValue& options, const DerivedContext& context,
                                                   ConfigDiagnostics* diag);

}  // namespace intraday
