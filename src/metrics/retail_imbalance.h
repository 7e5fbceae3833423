// Module `retail_imbalance`: notional imbalance of retail lit trades per bucket (metrics.md):
// RetailImbalance = sum(s * NotionalEUR) / sum(NotionalEUR), s = +1 buy, -1 sell, over trades
// with BMLLParticipantType RETAIL passing the filters (default classifications
// [LIT_CONTINUOUS]); unknown-side trades are excluded from both sums. docs/metrics/retail_imbalance.md.
#pragma once

#include <memory>

#include "metrics/registry.h"

namespace intraday {

std::unique_ptr<Module> CreateRetailImbalanceModule(const YamlValue& options, const PassShape& pass,
                                                    ConfigDiagnostics* diag);

}  // namespace intraday
