// The universe of a day: which listings to process, resolved before anything is read.
//
// Source: by default the day's `reference` file of each configured MIC (one row per listing;
// ListingId required; InstrumentId, Ticker, ISIN, CurrencyCode, IsPrimary used when present);
// a listing's MIC is the MIC of the reference file it comes from. With `universe.file`, a CSV
// file with a header row or a Parquet file replaces the reference table: it needs ListingId and
// MIC columns and may have InstrumentId, Ticker, ISIN, CurrencyCode and IsPrimary (true/false,
// 1/0); it holds the same listings every day, and if `universe.mics` is also given only the rows
// of those MICs are kept.
//
// Filters: with `listings`, `tickers` or `isins`, a listing is kept if it matches any of them;
// with none, every listing is kept. The result is deduplicated by ListingId (the first row wins,
// in MIC order then file order; a ListingId seen on two MICs is a warning) and sorted.
#pragma once

#include <string>
#include <vector>

#include "common/date.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "io/lake.h"
#include "plan/day_plan.h"

namespace intraday {

/// Resolves the universe of `day`. A missing reference file is a warning (no listings for that
/// MIC-day) unless `strict`, then an error naming the file. Unreadable files and bad columns are
/// errors naming the file and the column.
Result<Universe> ResolveUniverse(const Lake& lake, const UniverseConfig& config, bool strict, Date day,
                                 std::vector<std::string>* warnings);

}  // namespace intraday
