// Module `l2` (metrics.md, "l2 (input: l2), state at bucket end"): the book state at the end of
// each bucket, i.e. the last snapshot of the listing-day assigned to that bucket or an earlier one
// (for end/right buckets: the last snapshot at or before the label), carried across empty
// buckets and null before the day's first snapshot; plus optional OHLC of the mid, best bid, best
// ask or weighted mid over the snapshots of each bucket. docs/metrics/l2.md has the details.
//
// Options:
//   levels: 1..10 (default 10), the depth the family keys of `metrics` expand to.
//   metrics: [families or column names] (default: the default set of metrics.md, below). A family
//     key (price, quantity, num_orders, cum_quantity, cum_orders, cum_notional,
//     imbalance_cum_quantity, imbalance_orders, imbalance_cum_notional, mid, weighted_mid,
//     spread_abs, spread_bps, market_state) expands in place to its columns (for X in Bid, Ask; l
//     in 1..levels); an exact column name (e.g. BidPrice3, SpreadAbs) adds one column.
//   ohlc: {sources: [mid, bid, ask, weighted_mid], mode: event | prev_close} (default none).
// Default columns: {X}Price1..L, {X}Quantity1..L, {X}NumOrders1..L, {X}CumQuantity1..L,
// {X}CumOrders1..L (each family Bid then Ask), ImbalanceCumQuantity1..L, ImbalanceOrders1..L,
// SpreadBps, MarketState; then {Source}Open/High/Low/Close per OHLC source.
#pragma once

#include <memory>

#include "metrics/registry.h"

namespace intraday {

std::unique_ptr<Module> CreateL2Module(const YamlValue& options, const PassShape& pass,
                                       ConfigDiagnostics* diag);

}  // namespace intraday
