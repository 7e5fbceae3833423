// Module `execution`: executed volume and VWAP per resting side from the L3 executions, lit and
// dark traded volume / VWAP / price placement per aggressor side from the trade prints, and the
// trade imbalance between executions against the ask and against the bid.
//
// Options (docs/metrics/execution.md):
//   include: [executions, lit, dark, imbalance]   default all four
//   lit_types: [LIT]                              BMLLTradeType values counted as lit
//   dark_types: [DARK]                            BMLLTradeType values counted as dark (OTC: neither)
#pragma once

#include <memory>

#include "metrics/registry.h"

namespace intraday {

std::unique_ptr<Module> CreateExecutionModule(const YamlValue& options, const PassShape& pass,
                                              ConfigDiagnostics* diag);

}  // namespace intraday
