#include "io/table_catalog.h"

#include <array>

#include <fmt/format.h>

namespace intraday {
namespace {

using K = ColumnKind;

constexpr ColumnSpec kTradeColumns[] = {
    {"ListingId", K::kInt64},
    {"InstrumentId", K::kInt64},
    {"MIC", K::kString},
    {"Ticker", K::kString},
    {"TradeTimestamp", K::kTimestamp},
    {"Price", K::kFloat64},
    {"Size", K::kFloat64},
    {"TradeNotional", K::kFloat64},
    {"TradeNotionalEUR", K::kFloat64},
    {"TradeNotionalUSD", K::kFloat64},
    {"AggressorSide", K::kInt64},
    {"Classification", K::kString},
    {"BMLLTradeType", K::kString},
    {"MarketState", K::kString},
    {"BMLLParticipantType", K::kString},
    {"IsBlock", K::kString},
    {"LotType", K::kString},
    {"NegotiatedTrade", K::kString},
    {"CrossingTrade", K::kString},
    {"AlgorithmicTrade", K::kString},
    {"PricePoint", K::kFloat64},
    {"PricePointAtVenue", K::kFloat64},
    {"PricePointAtPrimary", K::kFloat64},
    {"CurrencyCode", K::kString},
    {"PostTradeMid", K::kFloat64},
    {"PreTradeMid1ms", K::kFloat64},
};

constexpr ColumnSpec kBookColumns[] = {
    {"ListingId", K::kInt64},
    {"MIC", K::kString},
    {"Ticker", K::kString},
    {"CurrencyCode", K::kString},
    {"EventTimestamp", K::kTimestamp},
    {"MarketState", K::kString},
    {"BidLevelCount", K::kInt32},
    {"AskLevelCount", K::kInt32},
    {"L2EventNo", K::kInt64},
};

constexpr ColumnSpec kL3Columns[] = {
    {"ListingId", K::kInt64},     {"TimestampNanoseconds", K::kTimestamp},
    {"Side", K::kInt64},          {"LobAction", K::kInt64},
    {"OrderId", K::kString},      {"OldOrderId", K::kString},
    {"Price", K::kFloat64},       {"Size", K::kInt64},
    {"OldPrice", K::kFloat64},    {"OldSize", K::kInt64},
    {"OrderExecuted", K::kBool},  {"ExecutionPrice", K::kFloat64},
    {"ExecutionSize", K::kInt64}, {"SizeAhead", K::kInt64},
    {"OrdersAhead", K::kInt64},   {"MarketState", K::kString},
    {"EndOfEvent", K::kBool},     {"EventNo", K::kInt64},
};

constexpr ColumnSpec kMarketStateColumns[] = {
    {"ListingId", K::kInt64},
    {"TimestampNanoseconds", K::kTimestamp},
    {"MarketState", K::kString},
    {"MIC", K::kString},
};

constexpr ColumnSpec kReferenceColumns[] = {
    {"ListingId", K::kInt64},     {"InstrumentId", K::kInt64}, {"MIC", K::kString},   {"Ticker", K::kString},
    {"CurrencyCode", K::kString}, {"IsPrimary", K::kBool},     {"IsAlive", K::kBool}, {"ISIN", K::kString},
    {"OPOL", K::kString},         {"Date", K::kTimestamp},
};

constexpr ColumnSpec kImbalanceColumns[] = {
    {"ListingId", K::kInt64},
    {"TimestampNanoseconds", K::kTimestamp},
    {"MarketState", K::kString},
};

constexpr std::array<TableSpec, 7> kTables{{
    {Table::kTrades, "trades", "trades-plus", "Trades-Plus", "trades-plus-", "TradeTimestamp", kTradeColumns},
    {Table::kL2, "l2", "l2", "Equity", "", "EventTimestamp", kBookColumns},
    {Table::kL3, "l3", "l3", "Equity-L3", "l3-", "TimestampNanoseconds", kL3Columns},
    {Table::kMarketState, "marketstate", "market-state", "MarketState", "market-state-",
     "TimestampNanoseconds", kMarketStateColumns},
    {Table::kReference, "reference", "reference", "Reference", "reference-", "Date", kReferenceColumns},
    {Table::kCbbo, "cbbo", "cbbo", "CBBO", "cbbo-", "EventTimestamp", kBookColumns},
    {Table::kImbalance, "imbalance", "imbalance", "Imbalance", "imbalance-", "TimestampNanoseconds",
     kImbalanceColumns},
}};

/// Book tables carry {Bid|Ask}{Price|Quantity|NumOrders}{1..10}; their kinds follow the name.
std::optional<ColumnKind> BookLevelColumnKind(std::string_view column) {
  for (std::string_view side : {"Bid", "Ask"}) {
    if (!column.starts_with(side)) continue;
    std::string_view rest = column.substr(side.size());
    for (auto [field, kind] : {std::pair{std::string_view("Price"), K::kFloat64},
                               std::pair{std::string_view("Quantity"), K::kInt64},
                               std::pair{std::string_view("NumOrders"), K::kInt32}}) {
      if (!rest.starts_with(field)) continue;
      std::string_view level = rest.substr(field.size());
      if (level.empty() || level.size() > 2) return std::nullopt;
      for (char c : level) {
        if (c < '0' || c > '9') return std::nullopt;
      }
      return kind;
    }
  }
  return std::nullopt;
}

}  // namespace

std::span<const TableSpec> AllTables() { return kTables; }

const TableSpec& SpecOf(Table table) { return kTables[static_cast<size_t>(table)]; }

Result<Table> TableFromKey(std::string_view key) {
  for (const auto& spec : kTables) {
    if (spec.key == key) return spec.table;
  }
  std::string valid;
  for (const auto& spec : kTables) valid += (valid.empty() ? "" : ", ") + std::string(spec.key);
  return Status::Invalid("unknown table '", key, "': expected one of ", valid);
}

std::optional<ColumnKind> KnownColumnKind(Table table, std::string_view column) {
  for (const auto& col : SpecOf(table).known_columns) {
    if (col.name == column) return col.kind;
  }
  if (table == Table::kL2 || table == Table::kCbbo) return BookLevelColumnKind(column);
  if (table == Table::kTrades && (column.starts_with("PreTradeMid") || column.starts_with("PostTradeMid") ||
                                  column.starts_with("BestBidPrice") || column.starts_with("BestAskPrice"))) {
    return K::kFloat64;
  }
  return std::nullopt;
}

std::string_view ColumnKindName(ColumnKind kind) {
  switch (kind) {
    case K::kInt64: return "int64";
    case K::kInt32: return "int32";
    case K::kFloat64: return "float64";
    case K::kString: return "string";
    case K::kBool: return "bool";
    case K::kTimestamp: return "timestamp";
  }
  return "?";
}

std::string DefaultPathTemplate(Table table) {
  const TableSpec& spec = SpecOf(table);
  return fmt::format("{}/{{MIC}}/{{YYYY}}/{{MM}}/{{DD}}/{}{{MIC}}-{{YYYYMMDD}}.parquet", spec.folder,
                     spec.prefix);
}

}  // namespace intraday
