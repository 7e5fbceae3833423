// Module `activity`: how many events each input table holds per bucket, and the traded volume.
// The smallest module that exercises the whole engine (tables, timelines, empty buckets); the
// analytics modules of metrics.md follow the same shape.
//
// Options: tables: [trades, l2, l3, marketstate] (default [trades]).
// Columns: Activity{Table}Count per table (0 in empty buckets); ActivityTradesVolume (sum of
// Size over all trade prints, 0 in empty buckets) when trades are read.
#pragma once

#include <memory>

#include "metrics/registry.h"

namespace intraday {

std::unique_ptr<Module> CreateActivityModule(const YamlValue& options, const PassShape& pass,
                                             ConfigDiagnostics* diag);

}  // namespace intraday
