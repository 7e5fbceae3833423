// Module `trade`: per-bucket trade statistics from the trades table (metrics.md, "trade").
//
// Options (docs/metrics/trade.md): classifications, market_states, filters, metrics (explicit
// column names; default the default set of metrics.md), annualisation_seconds, tca_reference.
#pragma once

#include <memory>

#include "metrics/registry.h"

namespace intraday {

std::unique_ptr<Module> CreateTradeModule(const YamlValue& options, const PassShape& pass,
                                          ConfigDiagnostics* diag);

}  // namespace intraday
