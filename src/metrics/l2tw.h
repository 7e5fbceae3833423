// Module `l2tw` (metrics.md, "l2tw (input: l2), time-weighted over the bucket"): time-weighted
// averages of book values over each bucket, the book being a step function of time (a snapshot
// holds from its event time until the next snapshot of the listing-day; the day's last snapshot
// holds until the end of the last output row's interval). TWA(x) = integral of x over the part of
// the bucket's interval [IntervalBegin, IntervalEnd) where the state is known, x is not null and
// (with market_states) the snapshot's MarketState is in the set, divided by the length of that
// part; null if that part is empty. The state entering a bucket is carried in from the previous
// snapshot of the day. Optional realised volatility of mid, weighted mid, best bid or best ask.
// docs/metrics/l2tw.md has the details.
//
// Options:
//   levels: 1..10 (default 10), the depth the family keys of `metrics` expand to.
//   metrics: [families or column names] as for l2 (without market_state); names end in TWA
//     (e.g. BidPrice3TWA). Default: SpreadAbsTWA, SpreadBpsTWA, MidTWA, WeightedMidTWA,
//     {X}Price1..LTWA, {X}Quantity1..LTWA (Bid then Ask), ImbalanceCumQuantity1TWA.
//   market_states: [CONTINUOUS_TRADING, ...] (default: every state).
//   volatility: {sources: [mid, weighted_mid, bid, ask] (default [mid]), sample: duration
//     (default none: every snapshot), year_seconds: (default 252*86400)}: L2Volatility{Source}.
#pragma once

#include <memory>

#include "metrics/registry.h"

namespace intraday {

std::unique_ptr<Module> CreateL2TwModule(const YamlValue& options, const PassShape& pass,
                                         ConfigDiagnostics* diag);

}  // namespace intraday
