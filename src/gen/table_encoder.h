// Turns the first n rows of a row buffer into an Arrow record batch in the table's vendor schema:
// codes become strings, ids become id strings, NaN doubles become nulls, timestamps get the
// vendor's unit, and the columns the model does not drive get constant, plausible values.
#pragma once

#include <memory>
#include <span>

#include <arrow/record_batch.h>

#include "common/date.h"
#include "common/status.h"
#include "gen/rows.h"
#include "gen/universe.h"

namespace intraday::gen {

/// What every row of one (day, MIC) file shares.
struct EncodeContext {
  Date day;
  const VenueInfo* venue = nullptr;
  std::span<const Listing* const> listings;  // indexed by the rows' `listing`
  int tz_offset_minutes = 0;                 // TZOffset; local time = UTC + offset
};

Result<std::shared_ptr<arrow::RecordBatch>> EncodeL3(const L3Rows& rows, int64_t n, const EncodeContext& ctx);
Result<std::shared_ptr<arrow::RecordBatch>> EncodeL2(const BookRows& rows, int64_t n,
                                                     const EncodeContext& ctx);
Result<std::shared_ptr<arrow::RecordBatch>> EncodeCbbo(const BookRows& rows, int64_t n,
                                                       const EncodeContext& ctx);
Result<std::shared_ptr<arrow::RecordBatch>> EncodeMarketState(const MarketStateRows& rows, int64_t n,
                                                              const EncodeContext& ctx);
Result<std::shared_ptr<arrow::RecordBatch>> EncodeImbalance(const ImbalanceRows& rows, int64_t n,
                                                            const EncodeContext& ctx);
Result<std::shared_ptr<arrow::RecordBatch>> EncodeTrades(const TradeRows& rows, int64_t n,
                                                         const EncodeContext& ctx);
/// One row per listing of ctx.listings.
Result<std::shared_ptr<arrow::RecordBatch>> EncodeReference(const EncodeContext& ctx);

}  // namespace intraday::gen
