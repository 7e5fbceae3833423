#include "gen/table_encoder.h"

#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/scalar.h>
#include <arrow/util/bit_util.h>
#include <fmt/format.h>

#include "gen/vendor_schema.h"

namespace intraday::gen {
namespace {

using ArrayPtr = std::shared_ptr<arrow::Array>;
using arrow::TimeUnit;

constexpr int64_t kNanosPerMilli = 1'000'000;
constexpr int64_t kNanosPerMicro = 1'000;

// Collects the columns of a batch by name and emits them in the vendor schema's order. Every
// column must be provided exactly once, with exactly the schema's type: a typo or a forgotten
// column is an error, never a silently different file.
class BatchAssembler {
 public:
  BatchAssembler(Table table, int64_t n)
      : table_(table), schema_(VendorSchema(table)), n_(n), arrays_(schema_->num_fields()) {}

  Status Add(const std::string& name, Result<ArrayPtr> result) {
    INTRADAY_ASSIGN_OR_RAISE(ArrayPtr array, std::move(result));
    const int i = schema_->GetFieldIndex(name);
    if (i < 0) return Status::Invalid("generator: no column '", name, "' in ", SpecOf(table_).vendor_name);
    if (!array->type()->Equals(*schema_->field(i)->type())) {
      return Status::TypeError("generator: column '", name, "' built as ", array->type()->ToString(),
                               ", the vendor schema has ", schema_->field(i)->type()->ToString());
    }
    if (arrays_[i] != nullptr) return Status::Invalid("generator: column '", name, "' built twice");
    if (array->length() != n_) return Status::Invalid("generator: column '", name, "' has a wrong length");
    arrays_[i] = std::move(array);
    return Status::OK();
  }

  Result<std::shared_ptr<arrow::RecordBatch>> Finish() {
    for (int i = 0; i < schema_->num_fields(); ++i) {
      if (arrays_[i] == nullptr) {
        return Status::Invalid("generator: column '", schema_->field(i)->name(), "' of ",
                               SpecOf(table_).vendor_name, " was not built");
      }
    }
    return arrow::RecordBatch::Make(schema_, n_, std::move(arrays_));
  }

 private:
  Table table_;
  std::shared_ptr<arrow::Schema> schema_;
  int64_t n_;
  std::vector<ArrayPtr> arrays_;
};

// Fixed-width column without nulls: fn(i) gives the value.
template <typename CType, typename Fn>
Result<ArrayPtr> Fixed(std::shared_ptr<arrow::DataType> type, int64_t n, Fn&& fn) {
  INTRADAY_ASSIGN_OR_RAISE(auto values, arrow::AllocateBuffer(n * static_cast<int64_t>(sizeof(CType))));
  auto* out = reinterpret_cast<CType*>(values->mutable_data());
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<CType>(fn(i));
  return arrow::MakeArray(arrow::ArrayData::Make(std::move(type), n, {nullptr, std::move(values)}, 0));
}

// Fixed-width column where is_null(i) marks nulls.
template <typename CType, typename Fn, typename NullFn>
Result<ArrayPtr> FixedNullable(std::shared_ptr<arrow::DataType> type, int64_t n, Fn&& fn, NullFn&& is_null) {
  int64_t nulls = 0;
  for (int64_t i = 0; i < n; ++i) nulls += is_null(i) ? 1 : 0;
  if (nulls == 0) return Fixed<CType>(std::move(type), n, fn);
  INTRADAY_ASSIGN_OR_RAISE(auto values, arrow::AllocateBuffer(n * static_cast<int64_t>(sizeof(CType))));
  INTRADAY_ASSIGN_OR_RAISE(auto validity, arrow::AllocateBitmap(n));
  std::memset(validity->mutable_data(), 0, static_cast<size_t>(validity->size()));
  auto* out = reinterpret_cast<CType*>(values->mutable_data());
  for (int64_t i = 0; i < n; ++i) {
    if (is_null(i)) {
      out[i] = CType{};
    } else {
      out[i] = static_cast<CType>(fn(i));
      arrow::bit_util::SetBit(validity->mutable_data(), i);
    }
  }
  return arrow::MakeArray(
      arrow::ArrayData::Make(std::move(type), n, {std::move(validity), std::move(values)}, nulls));
}

template <typename Fn>
Result<ArrayPtr> Int64s(int64_t n, Fn&& fn) {
  return FixedNullable<int64_t>(arrow::int64(), n, fn, [&](int64_t i) { return fn(i) == kNullInt; });
}
template <typename Fn>
Result<ArrayPtr> Int32s(int64_t n, Fn&& fn) {
  return Fixed<int32_t>(arrow::int32(), n, fn);
}
// Doubles; NaN is null.
template <typename Fn>
Result<ArrayPtr> Doubles(int64_t n, Fn&& fn) {
  return FixedNullable<double>(arrow::float64(), n, fn, [&](int64_t i) { return std::isnan(fn(i)); });
}
template <typename Fn>
Result<ArrayPtr> Timestamps(TimeUnit::type unit, int64_t n, Fn&& fn_ns) {
  const int64_t divisor = unit == TimeUnit::MILLI   ? kNanosPerMilli
                          : unit == TimeUnit::MICRO ? kNanosPerMicro
                                                    : 1;
  // Event times are positive, so integer division truncates like the vendor (towards the past).
  return Fixed<int64_t>(arrow::timestamp(unit), n, [&](int64_t i) { return fn_ns(i) / divisor; });
}
template <typename Fn>
Result<ArrayPtr> Bools(int64_t n, Fn&& fn) {
  arrow::BooleanBuilder builder;
  INTRADAY_RETURN_NOT_OK(builder.Reserve(n));
  for (int64_t i = 0; i < n; ++i) builder.UnsafeAppend(static_cast<bool>(fn(i)));
  return builder.Finish();
}

// Strings: fn(i) returns std::optional<std::string_view> (nullopt = null) or a string_view.
template <typename Fn>
Result<ArrayPtr> Strings(int64_t n, Fn&& fn) {
  arrow::StringBuilder builder;
  INTRADAY_RETURN_NOT_OK(builder.Reserve(n));
  for (int64_t i = 0; i < n; ++i) {
    std::optional<std::string_view> value = fn(i);
    if (value.has_value()) {
      INTRADAY_RETURN_NOT_OK(builder.Append(*value));
    } else {
      INTRADAY_RETURN_NOT_OK(builder.AppendNull());
    }
  }
  return builder.Finish();
}

// Decimal id strings; 0 is the empty string (the vendor's "no id").
template <typename Fn>
Result<ArrayPtr> IdStrings(int64_t n, Fn&& fn) {
  arrow::StringBuilder builder;
  INTRADAY_RETURN_NOT_OK(builder.Reserve(n));
  INTRADAY_RETURN_NOT_OK(builder.ReserveData(n * 12));
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t id = fn(i);
    if (id == 0) {
      INTRADAY_RETURN_NOT_OK(builder.Append(std::string_view()));
    } else {
      const fmt::format_int text(id);
      INTRADAY_RETURN_NOT_OK(builder.Append(std::string_view(text.data(), text.size())));
    }
  }
  return builder.Finish();
}

Result<ArrayPtr> ConstString(std::string_view value, int64_t n) {
  return arrow::MakeArrayFromScalar(arrow::StringScalar(std::string(value)), n);
}
Result<ArrayPtr> ConstInt64(int64_t value, int64_t n) {
  return arrow::MakeArrayFromScalar(arrow::Int64Scalar(value), n);
}
Result<ArrayPtr> ConstInt32(int32_t value, int64_t n) {
  return arrow::MakeArrayFromScalar(arrow::Int32Scalar(value), n);
}
Result<ArrayPtr> ConstDouble(double value, int64_t n) {
  return arrow::MakeArrayFromScalar(arrow::DoubleScalar(value), n);
}
Result<ArrayPtr> ConstTimestamp(int64_t value, TimeUnit::type unit, int64_t n) {
  return arrow::MakeArrayFromScalar(arrow::TimestampScalar(value, arrow::timestamp(unit)), n);
}
Result<ArrayPtr> NullsOf(const std::shared_ptr<arrow::DataType>& type, int64_t n) {
  return arrow::MakeArrayOfNull(type, n);
}

std::string_view StateName(uint8_t code) { return MarketStateName(static_cast<MarketState>(code)); }

std::string_view OneChar(const char& c) { return std::string_view(&c, 1); }

// Columns every table derives from the listing of a row.
struct ListingColumns {
  const EncodeContext& ctx;
  const std::vector<uint32_t>& listing;
  int64_t n;

  const Listing& at(int64_t i) const { return *ctx.listings[listing[i]]; }
  Result<ArrayPtr> ListingId() const {
    return Int64s(n, [&](int64_t i) { return at(i).listing_id; });
  }
  Result<ArrayPtr> InstrumentId() const {
    return Int64s(n, [&](int64_t i) { return at(i).instrument_id; });
  }
  Result<ArrayPtr> Ticker() const {
    return Strings(n, [&](int64_t i) { return std::optional<std::string_view>(at(i).ticker); });
  }
};

int64_t TzOffsetNs(const EncodeContext& ctx) { return int64_t{ctx.tz_offset_minutes} * 60 * 1'000'000'000; }

}  // namespace

Result<std::shared_ptr<arrow::RecordBatch>> EncodeL3(const L3Rows& r, int64_t n, const EncodeContext& ctx) {
  BatchAssembler b(Table::kL3, n);
  const ListingColumns lc{ctx, r.listing, n};
  const int64_t day_ms = ctx.day.start_ns() / kNanosPerMilli;
  constexpr uint8_t kRemove = 3, kInsert = 2;
  INTRADAY_RETURN_NOT_OK(b.Add("Ticker", lc.Ticker()));
  INTRADAY_RETURN_NOT_OK(b.Add("ListingId", lc.ListingId()));
  INTRADAY_RETURN_NOT_OK(b.Add("InstrumentId", lc.InstrumentId()));
  INTRADAY_RETURN_NOT_OK(b.Add("TradeDate", ConstTimestamp(day_ms, TimeUnit::MILLI, n)));
  INTRADAY_RETURN_NOT_OK(
      b.Add("TimestampNanoseconds", Timestamps(TimeUnit::NANO, n, [&](int64_t i) { return r.time_ns[i]; })));
  // The capture host receives each message some microseconds later.
  INTRADAY_RETURN_NOT_OK(b.Add("ReceiveTimestamp", Int64s(n, [&](int64_t i) {
                                 return r.time_ns[i] + 9'000 + (r.sequence_no[i] * 7'919) % 3'000;
                               })));
  INTRADAY_RETURN_NOT_OK(b.Add("EventNo", Int64s(n, [&](int64_t i) { return r.event_no[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("Side", Int64s(n, [&](int64_t i) { return int64_t{r.side[i]}; })));
  INTRADAY_RETURN_NOT_OK(b.Add("LobAction", Int64s(n, [&](int64_t i) { return int64_t{r.action[i]}; })));
  INTRADAY_RETURN_NOT_OK(b.Add("OriginalOrderId", IdStrings(n, [&](int64_t i) { return r.order_id[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("Price", Doubles(n, [&](int64_t i) { return r.price[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("Size", Int64s(n, [&](int64_t i) { return r.size[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("OrderId", IdStrings(n, [&](int64_t i) {
                                 return r.action[i] == kRemove ? uint64_t{0} : r.order_id[i];
                               })));
  INTRADAY_RETURN_NOT_OK(b.Add("OldPrice", Doubles(n, [&](int64_t i) { return r.old_price[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("OldSize", Int64s(n, [&](int64_t i) { return r.old_size[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("OldOrderId", IdStrings(n, [&](int64_t i) {
                                 return r.action[i] == kInsert ? uint64_t{0} : r.order_id[i];
                               })));
  INTRADAY_RETURN_NOT_OK(b.Add("OrderExecuted", Bools(n, [&](int64_t i) { return r.executed[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("ExecutionPrice", Doubles(n, [&](int64_t i) { return r.exec_price[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("ExecutionSize", Int64s(n, [&](int64_t i) { return r.exec_size[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("TradeId", IdStrings(n, [&](int64_t i) { return r.trade_id[i]; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("PriceLevel", Int64s(n, [&](int64_t i) { return int64_t{r.price_level[i]}; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("OldPriceLevel", Int64s(n, [&](int64_t i) { return int64_t{r.old_price_level[i]}; })));
  INTRADAY_RETURN_NOT_OK(b.Add("SizeAhead", Int64s(n, [&](int64_t i) { return r.size_ahead[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("OrdersAhead", Int64s(n, [&](int64_t i) { return r.orders_ahead[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("PosChange", Bools(n, [&](int64_t i) { return r.pos_change[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("EndOfEvent", Bools(n, [&](int64_t i) { return r.end_of_event[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("MarketState", Strings(n, [&](int64_t i) { return StateName(r.state[i]); })));
  INTRADAY_RETURN_NOT_OK(b.Add("Printable", Bools(n, [&](int64_t i) { return r.executed[i]; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("DelOrderIndex", Int64s(n, [&](int64_t i) { return int64_t{r.del_index[i]}; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("AddOrderIndex", Int64s(n, [&](int64_t i) { return int64_t{r.add_index[i]}; })));
  INTRADAY_RETURN_NOT_OK(b.Add("MPIDAttribution", ConstString("", n)));
  INTRADAY_RETURN_NOT_OK(b.Add("ExchangeSequenceNo", Int64s(n, [&](int64_t i) { return r.sequence_no[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("BMLLSequenceNo", Int64s(n, [&](int64_t i) { return r.sequence_no[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("BMLLSequenceSource", ConstInt64(1, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("OrderType", ConstInt64(1, n)));
  INTRADAY_RETURN_NOT_OK(
      b.Add("OriginalExchangeMessage", Strings(n, [&](int64_t i) { return OneChar(r.message[i]); })));
  return b.Finish();
}

namespace {

// The columns L2 and CBBO share: timestamps and the ten levels of each side.
Status AddBookColumns(BatchAssembler& b, const BookRows& r, int64_t n, const EncodeContext& ctx) {
  const ListingColumns lc{ctx, r.listing, n};
  const int64_t day_ms = ctx.day.start_ns() / kNanosPerMilli;
  const int64_t tz = TzOffsetNs(ctx);
  INTRADAY_RETURN_NOT_OK(b.Add("TradeDate", ConstTimestamp(day_ms, TimeUnit::MILLI, n)));
  INTRADAY_RETURN_NOT_OK(
      b.Add("EventTimestamp", Timestamps(TimeUnit::MICRO, n, [&](int64_t i) { return r.time_ns[i]; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("LocalTimestamp", Timestamps(TimeUnit::MICRO, n, [&](int64_t i) { return r.time_ns[i] + tz; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("TimestampNanoseconds", Timestamps(TimeUnit::NANO, n, [&](int64_t i) { return r.time_ns[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("TZOffset", ConstInt32(ctx.tz_offset_minutes, n)));
  for (int l = 0; l < kBookLevels; ++l) {
    const int level = l + 1;
    INTRADAY_RETURN_NOT_OK(
        b.Add(fmt::format("BidPrice{}", level), Doubles(n, [&](int64_t i) { return r.bid_price[l][i]; })));
    INTRADAY_RETURN_NOT_OK(
        b.Add(fmt::format("BidQuantity{}", level), Int64s(n, [&](int64_t i) { return r.bid_qty[l][i]; })));
    INTRADAY_RETURN_NOT_OK(b.Add(fmt::format("BidNumOrders{}", level),
                                 Int32s(n, [&](int64_t i) { return r.bid_orders[l][i]; })));
    INTRADAY_RETURN_NOT_OK(
        b.Add(fmt::format("AskPrice{}", level), Doubles(n, [&](int64_t i) { return r.ask_price[l][i]; })));
    INTRADAY_RETURN_NOT_OK(
        b.Add(fmt::format("AskQuantity{}", level), Int64s(n, [&](int64_t i) { return r.ask_qty[l][i]; })));
    INTRADAY_RETURN_NOT_OK(b.Add(fmt::format("AskNumOrders{}", level),
                                 Int32s(n, [&](int64_t i) { return r.ask_orders[l][i]; })));
  }
  INTRADAY_RETURN_NOT_OK(b.Add("BidLevelCount", Int32s(n, [&](int64_t i) { return r.bid_levels[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("AskLevelCount", Int32s(n, [&](int64_t i) { return r.ask_levels[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("L2EventNo", Int64s(n, [&](int64_t i) { return r.l2_event_no[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("MIC", ConstString(ctx.venue->mic, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("Ticker", lc.Ticker()));
  INTRADAY_RETURN_NOT_OK(b.Add("ListingId", lc.ListingId()));
  INTRADAY_RETURN_NOT_OK(b.Add("CurrencyCode", ConstString(ctx.venue->currency, n)));
  return Status::OK();
}

}  // namespace

Result<std::shared_ptr<arrow::RecordBatch>> EncodeL2(const BookRows& r, int64_t n, const EncodeContext& ctx) {
  BatchAssembler b(Table::kL2, n);
  INTRADAY_RETURN_NOT_OK(AddBookColumns(b, r, n, ctx));
  INTRADAY_RETURN_NOT_OK(b.Add("MarketState", Strings(n, [&](int64_t i) { return StateName(r.state[i]); })));
  INTRADAY_RETURN_NOT_OK(b.Add("ExchangeSequenceNo", Int64s(n, [&](int64_t i) { return r.sequence_no[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("BMLLSequenceNo", Int64s(n, [&](int64_t i) { return r.sequence_no[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("BMLLSequenceSource", ConstInt64(1, n)));
  return b.Finish();
}

Result<std::shared_ptr<arrow::RecordBatch>> EncodeCbbo(const BookRows& r, int64_t n,
                                                       const EncodeContext& ctx) {
  BatchAssembler b(Table::kCbbo, n);
  INTRADAY_RETURN_NOT_OK(AddBookColumns(b, r, n, ctx));
  return b.Finish();
}

Result<std::shared_ptr<arrow::RecordBatch>> EncodeMarketState(const MarketStateRows& r, int64_t n,
                                                              const EncodeContext& ctx) {
  BatchAssembler b(Table::kMarketState, n);
  const ListingColumns lc{ctx, r.listing, n};
  INTRADAY_RETURN_NOT_OK(
      b.Add("TimestampNanoseconds", Timestamps(TimeUnit::NANO, n, [&](int64_t i) { return r.time_ns[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("MarketState", Strings(n, [&](int64_t i) { return StateName(r.state[i]); })));
  INTRADAY_RETURN_NOT_OK(b.Add("MIC", ConstString(ctx.venue->mic, n)));
  INTRADAY_RETURN_NOT_OK(
      b.Add("ExchangeMarketState", Strings(n, [&](int64_t i) { return OneChar(r.exchange_code[i]); })));
  INTRADAY_RETURN_NOT_OK(b.Add("ListingId", lc.ListingId()));
  INTRADAY_RETURN_NOT_OK(b.Add("InstrumentId", lc.InstrumentId()));
  INTRADAY_RETURN_NOT_OK(b.Add("ExchangeSequenceNo", ConstInt64(0, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("BMLLSequenceNo", Int64s(n, [&](int64_t i) { return r.sequence_no[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("BMLLSequenceSource", ConstInt64(1, n)));
  return b.Finish();
}

Result<std::shared_ptr<arrow::RecordBatch>> EncodeImbalance(const ImbalanceRows& r, int64_t n,
                                                            const EncodeContext& ctx) {
  BatchAssembler b(Table::kImbalance, n);
  const ListingColumns lc{ctx, r.listing, n};
  const int64_t day_ms = ctx.day.start_ns() / kNanosPerMilli;
  const int64_t tz = TzOffsetNs(ctx);
  INTRADAY_RETURN_NOT_OK(b.Add("MIC", ConstString(ctx.venue->mic, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("Ticker", lc.Ticker()));
  INTRADAY_RETURN_NOT_OK(b.Add("ListingId", lc.ListingId()));
  INTRADAY_RETURN_NOT_OK(b.Add("InstrumentId", lc.InstrumentId()));
  INTRADAY_RETURN_NOT_OK(b.Add("CurrencyCode", ConstString(ctx.venue->currency, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("TradeDate", ConstTimestamp(day_ms, TimeUnit::MILLI, n)));
  INTRADAY_RETURN_NOT_OK(
      b.Add("Timestamp", Timestamps(TimeUnit::MICRO, n, [&](int64_t i) { return r.time_ns[i]; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("TimestampNanoseconds", Timestamps(TimeUnit::NANO, n, [&](int64_t i) { return r.time_ns[i]; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("LocalTimestamp", Timestamps(TimeUnit::MICRO, n, [&](int64_t i) { return r.time_ns[i] + tz; })));
  INTRADAY_RETURN_NOT_OK(b.Add("BMLLSequenceNo", Int64s(n, [&](int64_t i) { return r.sequence_no[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("BMLLSequenceSource", ConstInt64(1, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("ExchangeSequenceNo", Int64s(n, [&](int64_t i) { return r.sequence_no[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("MarketState", Strings(n, [&](int64_t i) { return StateName(r.state[i]); })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("ExchangeAuctionType", Strings(n, [&](int64_t i) { return OneChar(r.auction_type[i]); })));
  INTRADAY_RETURN_NOT_OK(b.Add("ImbalanceSide", Int64s(n, [&](int64_t i) { return int64_t{r.side[i]}; })));
  INTRADAY_RETURN_NOT_OK(b.Add("ReferencePrice", NullsOf(arrow::float64(), n)));
  INTRADAY_RETURN_NOT_OK(
      b.Add("IndicativeUncrossingPrice", Doubles(n, [&](int64_t i) { return r.price[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("AuctionOnlyIndicativePrice", NullsOf(arrow::float64(), n)));
  INTRADAY_RETURN_NOT_OK(b.Add("PairedQuantity", Doubles(n, [&](int64_t i) { return r.paired[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("ImbalanceQuantity", Doubles(n, [&](int64_t i) { return r.imbalance[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("IsCrossed", Bools(n, [&](int64_t i) { return r.crossed[i]; })));
  INTRADAY_RETURN_NOT_OK(b.Add("BestBidPrice", NullsOf(arrow::float64(), n)));
  INTRADAY_RETURN_NOT_OK(b.Add("BestAskPrice", NullsOf(arrow::float64(), n)));
  return b.Finish();
}

namespace {

bool IsOffBook(PrintKind kind) {
  return kind == PrintKind::kOffBookOnExchange || kind == PrintKind::kSystematicInternaliser;
}

std::string_view Classification(PrintKind kind) {
  switch (kind) {
    case PrintKind::kLitContinuous: return "LIT_CONTINUOUS";
    case PrintKind::kOpeningAuction: return "LIT_OPENING_AUCTION";
    case PrintKind::kClosingAuction: return "LIT_CLOSING_AUCTION";
    case PrintKind::kOffBookOnExchange: return "OFF_BOOK_ON_EXCHANGE";
    case PrintKind::kSystematicInternaliser: return "SI_ADDRESSABLE_BELOW_LIS";
  }
  return "UNKNOWN";
}

// MMT-style trading mode: 2 continuous, O / K scheduled opening / closing auction, 5 on-exchange
// trade reporting, 7 systematic internaliser reporting.
std::string_view TradingMode(PrintKind kind) {
  switch (kind) {
    case PrintKind::kLitContinuous: return "2";
    case PrintKind::kOpeningAuction: return "O";
    case PrintKind::kClosingAuction: return "K";
    case PrintKind::kOffBookOnExchange: return "5";
    case PrintKind::kSystematicInternaliser: return "7";
  }
  return "-";
}

std::string_view LotTypeName(uint8_t code) {
  switch (code) {
    case 1: return "MIXED";
    case 2: return "ODD";
    default: return "ROUND";
  }
}

std::string_view Flag(bool set, std::string_view value) { return set ? value : std::string_view("-"); }

}  // namespace

Result<std::shared_ptr<arrow::RecordBatch>> EncodeTrades(const TradeRows& rows, int64_t n,
                                                         const EncodeContext& ctx) {
  BatchAssembler b(Table::kTrades, n);
  const ListingColumns lc{ctx, rows.listing, n};
  const auto& r = rows.records;
  const VenueInfo& venue = *ctx.venue;
  const int64_t day_ms = ctx.day.start_ns() / kNanosPerMilli;
  const int64_t tz = TzOffsetNs(ctx);
  auto dbl = [&](const std::string& name, auto field) {
    return b.Add(name, Doubles(n, [&](int64_t i) { return field(r[i]); }));
  };
  auto str = [&](const std::string& name, auto field) {
    return b.Add(name, Strings(n, [&](int64_t i) { return std::optional<std::string_view>(field(r[i])); }));
  };

  INTRADAY_RETURN_NOT_OK(b.Add("Ticker", lc.Ticker()));
  INTRADAY_RETURN_NOT_OK(b.Add("MIC", ConstString(venue.mic, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("OPOL", ConstString(venue.mic, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("ISOCountryCode", ConstString(venue.country, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("SegmentCode", ConstString(venue.segment, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("InstrumentCurrencyCode", ConstString(venue.currency, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("ListingId", lc.ListingId()));
  INTRADAY_RETURN_NOT_OK(b.Add("InstrumentId", lc.InstrumentId()));
  INTRADAY_RETURN_NOT_OK(b.Add("TradeDate", ConstTimestamp(day_ms, TimeUnit::MILLI, n)));
  INTRADAY_RETURN_NOT_OK(
      b.Add("TradeTimestamp", Timestamps(TimeUnit::MICRO, n, [&](int64_t i) { return r[i].time_ns; })));
  INTRADAY_RETURN_NOT_OK(b.Add("PublicationTimestamp", Timestamps(TimeUnit::MICRO, n, [&](int64_t i) {
                                 return r[i].publication_ns;
                               })));
  INTRADAY_RETURN_NOT_OK(b.Add("LocalTradeTimestamp",
                               Timestamps(TimeUnit::MICRO, n, [&](int64_t i) { return r[i].time_ns + tz; })));
  INTRADAY_RETURN_NOT_OK(b.Add("LocalPublicationTimestamp", Timestamps(TimeUnit::MICRO, n, [&](int64_t i) {
                                 return r[i].publication_ns + tz;
                               })));
  INTRADAY_RETURN_NOT_OK(b.Add("TradeTimestampNanoseconds",
                               Timestamps(TimeUnit::NANO, n, [&](int64_t i) { return r[i].time_ns; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("PublicationTimestampNanoseconds",
            Timestamps(TimeUnit::NANO, n, [&](int64_t i) { return r[i].publication_ns; })));
  INTRADAY_RETURN_NOT_OK(b.Add("TZOffset", ConstInt32(ctx.tz_offset_minutes, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("TradeId", IdStrings(n, [&](int64_t i) { return r[i].trade_id; })));
  INTRADAY_RETURN_NOT_OK(b.Add("ExchangeSequenceNo", Int64s(n, [&](int64_t i) { return r[i].sequence_no; })));
  INTRADAY_RETURN_NOT_OK(b.Add("BMLLSequenceNo", Int64s(n, [&](int64_t i) { return r[i].sequence_no; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("BMLLSequenceSource", Int64s(n, [&](int64_t i) { return int64_t{r[i].sequence_source}; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("AggressorSide", Int64s(n, [&](int64_t i) { return int64_t{r[i].aggressor}; })));
  INTRADAY_RETURN_NOT_OK(dbl("Price", [](const TradeRecord& t) { return t.price; }));
  INTRADAY_RETURN_NOT_OK(dbl("Size", [](const TradeRecord& t) { return t.size; }));
  INTRADAY_RETURN_NOT_OK(b.Add("CurrencyCode", ConstString(venue.currency, n)));
  INTRADAY_RETURN_NOT_OK(dbl("InstrumentCurrencyPrice", [](const TradeRecord& t) { return t.price; }));
  INTRADAY_RETURN_NOT_OK(b.Add("MinorCurrencyFactor", ConstDouble(venue.minor_currency_factor, n)));
  INTRADAY_RETURN_NOT_OK(str("ExecutionVenue", [&](const TradeRecord& t) {
    return t.kind == PrintKind::kSystematicInternaliser ? std::string_view("SINT") : venue.mic;
  }));
  INTRADAY_RETURN_NOT_OK(b.Add("OriginalTradeType", ConstString("0", n)));
  INTRADAY_RETURN_NOT_OK(str("MarketMechanism", [](const TradeRecord& t) {
    return IsOffBook(t.kind) ? std::string_view("4") : std::string_view("1");
  }));
  INTRADAY_RETURN_NOT_OK(str("TradingMode", [](const TradeRecord& t) { return TradingMode(t.kind); }));
  INTRADAY_RETURN_NOT_OK(b.Add("TransactionCategory", ConstString("-", n)));
  INTRADAY_RETURN_NOT_OK(
      str("NegotiatedTrade", [](const TradeRecord& t) { return Flag(t.negotiated, "Y"); }));
  INTRADAY_RETURN_NOT_OK(str("CrossingTrade", [](const TradeRecord& t) { return Flag(t.crossing, "Y"); }));
  for (const char* name : {"ModificationIndicator", "BenchmarkIndicator", "SpecialDividendIndicator"}) {
    INTRADAY_RETURN_NOT_OK(b.Add(name, ConstString("-", n)));
  }
  INTRADAY_RETURN_NOT_OK(
      str("OffBookAutomatedIndicator", [](const TradeRecord& t) { return Flag(IsOffBook(t.kind), "M"); }));
  INTRADAY_RETURN_NOT_OK(b.Add("PriceFormation", ConstString("P", n)));
  INTRADAY_RETURN_NOT_OK(str("AlgorithmicTrade", [](const TradeRecord& t) { return Flag(t.algo, "H"); }));
  for (const char* name : {"PublicationMode", "DeferralType", "DuplicativeIndicator"}) {
    INTRADAY_RETURN_NOT_OK(b.Add(name, ConstString("-", n)));
  }
  INTRADAY_RETURN_NOT_OK(b.Add("BrokerIdBuyer", NullsOf(arrow::null(), n)));
  INTRADAY_RETURN_NOT_OK(b.Add("BrokerIdSeller", NullsOf(arrow::null(), n)));
  INTRADAY_RETURN_NOT_OK(b.Add("Jurisdiction", ConstString(venue.jurisdiction, n)));
  INTRADAY_RETURN_NOT_OK(str("MarketState", [](const TradeRecord& t) { return StateName(t.state); }));
  INTRADAY_RETURN_NOT_OK(
      str("MarketStateAtPrimary", [](const TradeRecord& t) { return StateName(t.state_at_primary); }));
  INTRADAY_RETURN_NOT_OK(str("BMLLTradeType", [](const TradeRecord& t) {
    return !IsOffBook(t.kind) ? std::string_view("LIT")
           : t.dark           ? std::string_view("DARK")
                              : std::string_view("OTC");
  }));
  INTRADAY_RETURN_NOT_OK(str("Classification", [](const TradeRecord& t) { return Classification(t.kind); }));
  INTRADAY_RETURN_NOT_OK(dbl("TradeNotional", [](const TradeRecord& t) { return t.notional; }));
  INTRADAY_RETURN_NOT_OK(dbl("TradeNotionalUSD", [](const TradeRecord& t) { return t.notional_usd; }));
  INTRADAY_RETURN_NOT_OK(dbl("TradeNotionalEUR", [](const TradeRecord& t) { return t.notional_eur; }));
  INTRADAY_RETURN_NOT_OK(b.Add("BlockSize", NullsOf(arrow::float64(), n)));
  auto block = [&](int64_t i) { return ctx.listings[r[i].listing]->block_notional_eur; };
  INTRADAY_RETURN_NOT_OK(b.Add("BlockNotional", Doubles(n, block)));
  INTRADAY_RETURN_NOT_OK(b.Add("BlockNotionalCurrency", ConstString("EUR", n)));
  INTRADAY_RETURN_NOT_OK(b.Add("TradeNotionalBlockBps",
                               Doubles(n, [&](int64_t i) { return 1e4 * r[i].notional_eur / block(i); })));
  INTRADAY_RETURN_NOT_OK(str("IsBlock", [](const TradeRecord& t) {
    return t.block ? std::string_view("TRUE") : std::string_view("FALSE");
  }));
  INTRADAY_RETURN_NOT_OK(str("LotType", [](const TradeRecord& t) { return LotTypeName(t.lot_type); }));
  for (const char* name : {"ParticipantType", "BMLLParticipantType"}) {
    INTRADAY_RETURN_NOT_OK(str(name, [](const TradeRecord& t) {
      return t.retail ? std::string_view("RETAIL") : std::string_view("UNKNOWN");
    }));
  }
  // Consolidated best prices: the generator models one venue per book, so they are the venue's.
  auto venue_if = [&](double price) {
    return std::isnan(price) ? std::optional<std::string_view>() : std::optional<std::string_view>(venue.mic);
  };
  INTRADAY_RETURN_NOT_OK(dbl("BestBidPrice", [](const TradeRecord& t) { return t.bid; }));
  INTRADAY_RETURN_NOT_OK(dbl("BestBidSize", [](const TradeRecord& t) { return t.bid_size; }));
  INTRADAY_RETURN_NOT_OK(b.Add("BestBidVenue", Strings(n, [&](int64_t i) { return venue_if(r[i].bid); })));
  INTRADAY_RETURN_NOT_OK(dbl("BestAskPrice", [](const TradeRecord& t) { return t.ask; }));
  INTRADAY_RETURN_NOT_OK(dbl("BestAskSize", [](const TradeRecord& t) { return t.ask_size; }));
  INTRADAY_RETURN_NOT_OK(b.Add("BestAskVenue", Strings(n, [&](int64_t i) { return venue_if(r[i].ask); })));
  INTRADAY_RETURN_NOT_OK(dbl("BestBidPriceAtVenue", [](const TradeRecord& t) { return t.bid; }));
  INTRADAY_RETURN_NOT_OK(dbl("BestBidSizeAtVenue", [](const TradeRecord& t) { return t.bid_size; }));
  INTRADAY_RETURN_NOT_OK(dbl("BestAskPriceAtVenue", [](const TradeRecord& t) { return t.ask; }));
  INTRADAY_RETURN_NOT_OK(dbl("BestAskSizeAtVenue", [](const TradeRecord& t) { return t.ask_size; }));
  INTRADAY_RETURN_NOT_OK(dbl("BestBidPriceAtPrimary", [](const TradeRecord& t) { return t.bid_primary; }));
  INTRADAY_RETURN_NOT_OK(
      dbl("BestBidSizeAtPrimary", [](const TradeRecord& t) { return t.bid_size_primary; }));
  INTRADAY_RETURN_NOT_OK(dbl("BestAskPriceAtPrimary", [](const TradeRecord& t) { return t.ask_primary; }));
  INTRADAY_RETURN_NOT_OK(
      dbl("BestAskSizeAtPrimary", [](const TradeRecord& t) { return t.ask_size_primary; }));
  INTRADAY_RETURN_NOT_OK(
      b.Add("PriorQuoteSizeRank", Int64s(n, [&](int64_t i) { return r[i].prior_quote_rank; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("PreTradeElapsedTimeChg", Int64s(n, [&](int64_t i) { return r[i].pre_elapsed; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("PostTradeElapsedTimeChg", Int64s(n, [&](int64_t i) { return r[i].post_elapsed; })));
  // The primary's quote changes are not modelled separately: its elapsed times are the venue's.
  INTRADAY_RETURN_NOT_OK(
      b.Add("PreTradeElapsedTimeChgAtPrimary", Int64s(n, [&](int64_t i) { return r[i].pre_elapsed; })));
  INTRADAY_RETURN_NOT_OK(
      b.Add("PostTradeElapsedTimeChgAtPrimary", Int64s(n, [&](int64_t i) { return r[i].post_elapsed; })));
  INTRADAY_RETURN_NOT_OK(dbl("PricePoint", [](const TradeRecord& t) { return t.price_point; }));
  INTRADAY_RETURN_NOT_OK(dbl("PricePointAtVenue", [](const TradeRecord& t) { return t.price_point; }));
  INTRADAY_RETURN_NOT_OK(
      dbl("PricePointAtPrimary", [](const TradeRecord& t) { return t.price_point_primary; }));
  INTRADAY_RETURN_NOT_OK(dbl("OrderRemainingQty", [](const TradeRecord& t) { return t.order_remaining; }));
  INTRADAY_RETURN_NOT_OK(dbl("BBORemainingQtyAtVenue", [](const TradeRecord& t) { return t.bbo_remaining; }));
  // The vendor orders the pre-trade horizons longest first and the post-trade ones shortest first.
  for (int h = kHorizons - 1; h >= 0; --h) {
    INTRADAY_RETURN_NOT_OK(dbl(fmt::format("PreTradeMid{}ms", kMidHorizonsMs[h]),
                               [h](const TradeRecord& t) { return t.pre_mid[h]; }));
  }
  for (int h = 0; h < kHorizons; ++h) {
    INTRADAY_RETURN_NOT_OK(dbl(fmt::format("PostTradeMid{}ms", kMidHorizonsMs[h]),
                               [h](const TradeRecord& t) { return t.post_mid[h]; }));
  }
  for (int h = kHorizons - 1; h >= 0; --h) {
    INTRADAY_RETURN_NOT_OK(dbl(fmt::format("PreTradeMid{}msAtPrimary", kMidHorizonsMs[h]),
                               [h](const TradeRecord& t) { return t.pre_mid_primary[h]; }));
  }
  for (int h = 0; h < kHorizons; ++h) {
    INTRADAY_RETURN_NOT_OK(dbl(fmt::format("PostTradeMid{}msAtPrimary", kMidHorizonsMs[h]),
                               [h](const TradeRecord& t) { return t.post_mid_primary[h]; }));
  }
  INTRADAY_RETURN_NOT_OK(dbl("PostTradeMid", [](const TradeRecord& t) { return t.post_mid_now; }));
  INTRADAY_RETURN_NOT_OK(
      dbl("PostTradeMidAtPrimary", [](const TradeRecord& t) { return t.post_mid_now_primary; }));
  for (size_t k = 0; k < kPostTradeUpdates.size(); ++k) {
    INTRADAY_RETURN_NOT_OK(dbl(fmt::format("PostTradeBestBid{}V", kPostTradeUpdates[k]),
                               [k](const TradeRecord& t) { return t.post_bid[k]; }));
    INTRADAY_RETURN_NOT_OK(dbl(fmt::format("PostTradeBestAsk{}V", kPostTradeUpdates[k]),
                               [k](const TradeRecord& t) { return t.post_ask[k]; }));
  }
  return b.Finish();
}

Result<std::shared_ptr<arrow::RecordBatch>> EncodeReference(const EncodeContext& ctx) {
  const auto& ls = ctx.listings;
  const int64_t n = static_cast<int64_t>(ls.size());
  BatchAssembler b(Table::kReference, n);
  auto str = [&](const char* name, auto field) {
    return b.Add(name, Strings(n, [&](int64_t i) { return std::optional<std::string_view>(field(*ls[i])); }));
  };
  INTRADAY_RETURN_NOT_OK(b.Add("ListingId", Int64s(n, [&](int64_t i) { return ls[i]->listing_id; })));
  INTRADAY_RETURN_NOT_OK(b.Add("InstrumentId", Int64s(n, [&](int64_t i) { return ls[i]->instrument_id; })));
  INTRADAY_RETURN_NOT_OK(b.Add("CurrencyCode", ConstString(ctx.venue->currency, n)));
  INTRADAY_RETURN_NOT_OK(
      str("Description", [](const Listing& l) -> std::string_view { return l.description; }));
  INTRADAY_RETURN_NOT_OK(
      str("DisplayName", [](const Listing& l) -> std::string_view { return l.description; }));
  INTRADAY_RETURN_NOT_OK(str("FIGI", [](const Listing& l) -> std::string_view { return l.figi; }));
  INTRADAY_RETURN_NOT_OK(
      str("FIGIComposite", [](const Listing& l) -> std::string_view { return l.figi_composite; }));
  INTRADAY_RETURN_NOT_OK(
      str("FIGIShareClass", [](const Listing& l) -> std::string_view { return l.figi_share_class; }));
  INTRADAY_RETURN_NOT_OK(str("ISIN", [](const Listing& l) -> std::string_view { return l.isin; }));
  INTRADAY_RETURN_NOT_OK(b.Add("InstrumentType", ConstString("Equity", n)));
  INTRADAY_RETURN_NOT_OK(b.Add("IsAlive", Bools(n, [](int64_t) { return true; })));
  INTRADAY_RETURN_NOT_OK(b.Add("IsPrimary", Bools(n, [&](int64_t i) { return ls[i]->is_primary; })));
  INTRADAY_RETURN_NOT_OK(b.Add("MIC", ConstString(ctx.venue->mic, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("MarketDataLevel", ConstString("L3", n)));
  INTRADAY_RETURN_NOT_OK(b.Add("OPOL", ConstString(ctx.venue->mic, n)));
  INTRADAY_RETURN_NOT_OK(b.Add("OperatingMic", ConstString("", n)));
  INTRADAY_RETURN_NOT_OK(str("ReutersInstrumentId",
                             [](const Listing& l) -> std::string_view { return l.reuters_instrument_id; }));
  INTRADAY_RETURN_NOT_OK(str("ReutersOrganizationId",
                             [](const Listing& l) -> std::string_view { return l.reuters_organization_id; }));
  INTRADAY_RETURN_NOT_OK(
      str("ReutersQuoteId", [](const Listing& l) -> std::string_view { return l.reuters_quote_id; }));
  INTRADAY_RETURN_NOT_OK(b.Add("SegmentCode", ConstString(ctx.venue->segment, n)));
  INTRADAY_RETURN_NOT_OK(str("Ticker", [](const Listing& l) -> std::string_view { return l.ticker; }));
  INTRADAY_RETURN_NOT_OK(
      b.Add("Date", ConstTimestamp(ctx.day.start_ns() / kNanosPerMilli, TimeUnit::MILLI, n)));
  return b.Finish();
}

}  // namespace intraday::gen
