// Module `l3`: order-flow counts and volumes per side and action from the market-by-order
// messages, and the advanced order-flow metrics of metrics.md (arrival imbalance, cancel-to-trade,
// queue position, resting time, fleeting liquidity, replacement latency).
//
// Options (docs/metrics/l3.md):
//   actions: [insert, remove, update, execution]   default [insert, remove]
//   advanced: [ArrivalFlowImbalance, ...] or all   default none
//   fleeting_ms: int >= 0                          default 100
// Columns: {Action}{Count|Volume}{Side} per selected action (Update: UpdateCount{Side},
// UpdateInsertedVolume{Side}, UpdateRemovedVolume{Side}), then the selected advanced metrics.
#pragma once

#include <memory>

#include "metrics/registry.h"

namespace intraday {

std::unique_ptr<Module> CreateL3Module(const YamlValue& options, const PassShape& pass,
                                       ConfigDiagnostics* diag);

}  // namespace intraday
