// Row buffers of the generated tables, column by column in compact form (codes instead of
// strings, numeric ids instead of id strings, NaN for a null double). The simulator appends to
// them; the encoder (table_encoder.h) turns a prefix into an Arrow record batch in the vendor
// schema. Each buffer lists its columns once in ForEachColumn, which is what erasing a written
// prefix and clearing rely on.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <vector>

namespace intraday::gen {

inline constexpr double kNullDouble = std::numeric_limits<double>::quiet_NaN();
inline constexpr int64_t kNullInt = std::numeric_limits<int64_t>::min();
inline constexpr int kBookLevels = 10;

/// Common operations over the columns a buffer lists in ForEachColumn.
template <typename Derived>
class RowBuffer {
 public:
  int64_t rows() const { return static_cast<int64_t>(static_cast<const Derived&>(*this).listing.size()); }
  void EraseFront(int64_t n) {
    static_cast<Derived&>(*this).ForEachColumn([n](auto& col) { col.erase(col.begin(), col.begin() + n); });
  }
  void Clear() {
    static_cast<Derived&>(*this).ForEachColumn([](auto& col) { col.clear(); });
  }
};

/// The string columns that repeat per row are keyed by a small code.
enum class LobMessage : char { kInsert = 'F', kDelete = 'D', kUpdate = 'U' };

struct L3Rows : RowBuffer<L3Rows> {
  std::vector<uint32_t> listing;  // index into the file's listing table
  std::vector<int64_t> time_ns, event_no, sequence_no;
  std::vector<uint8_t> side, action;
  std::vector<uint64_t> order_id;  // OriginalOrderId; OrderId / OldOrderId follow the action
  std::vector<double> price, old_price, exec_price;
  std::vector<int64_t> size, old_size, exec_size, size_ahead, orders_ahead;
  std::vector<uint64_t> trade_id;  // 0 = no trade
  std::vector<int32_t> price_level, old_price_level, del_index, add_index;
  std::vector<uint8_t> executed, pos_change, end_of_event, state;
  std::vector<char> message;

  template <typename F>
  void ForEachColumn(F&& f) {
    f(listing), f(time_ns), f(event_no), f(sequence_no), f(side), f(action), f(order_id), f(price);
    f(old_price), f(exec_price), f(size), f(old_size), f(exec_size), f(size_ahead), f(orders_ahead);
    f(trade_id), f(price_level), f(old_price_level), f(del_index), f(add_index), f(executed);
    f(pos_change), f(end_of_event), f(state), f(message);
  }
};

/// One top-of-book snapshot per row; also used for the CBBO table (conflated to 1 ms).
struct BookRows : RowBuffer<BookRows> {
  std::vector<uint32_t> listing;
  std::vector<int64_t> time_ns, l2_event_no, sequence_no;
  std::vector<uint8_t> state;
  std::array<std::vector<double>, kBookLevels> bid_price, ask_price;  // NaN past the last level
  std::array<std::vector<int64_t>, kBookLevels> bid_qty, ask_qty;
  std::array<std::vector<int32_t>, kBookLevels> bid_orders, ask_orders;
  std::vector<int32_t> bid_levels, ask_levels;

  template <typename F>
  void ForEachColumn(F&& f) {
    f(listing), f(time_ns), f(l2_event_no), f(sequence_no), f(state), f(bid_levels), f(ask_levels);
    for (int i = 0; i < kBookLevels; ++i) {
      f(bid_price[i]), f(ask_price[i]), f(bid_qty[i]), f(ask_qty[i]), f(bid_orders[i]), f(ask_orders[i]);
    }
  }
};

struct MarketStateRows : RowBuffer<MarketStateRows> {
  std::vector<uint32_t> listing;
  std::vector<int64_t> time_ns, sequence_no;
  std::vector<uint8_t> state;
  std::vector<char> exchange_code;

  template <typename F>
  void ForEachColumn(F&& f) {
    f(listing), f(time_ns), f(sequence_no), f(state), f(exchange_code);
  }
};

struct ImbalanceRows : RowBuffer<ImbalanceRows> {
  std::vector<uint32_t> listing;
  std::vector<int64_t> time_ns, sequence_no;
  std::vector<uint8_t> state, side, crossed;
  std::vector<char> auction_type;  // 'O' opening, 'C' closing
  std::vector<double> price, paired, imbalance;

  template <typename F>
  void ForEachColumn(F&& f) {
    f(listing), f(time_ns), f(sequence_no), f(state), f(side), f(crossed), f(auction_type), f(price);
    f(paired), f(imbalance);
  }
};

/// How a print came about; decides most of the MiFID-style string columns of trades-plus.
enum class PrintKind : uint8_t {
  kLitContinuous,
  kOpeningAuction,
  kClosingAuction,
  kOffBookOnExchange,  // negotiated / reported on the venue (OTC or DARK)
  kSystematicInternaliser,
};

/// Horizons of PreTradeMid{H}ms / PostTradeMid{H}ms, ascending.
inline constexpr std::array<int64_t, 15> kMidHorizonsMs = {1,   2,    5,    10,    25,    50,    100,   200,
                                                           500, 1000, 5000, 15000, 30000, 60000, 300000};
inline constexpr int kHorizons = static_cast<int>(kMidHorizonsMs.size());
/// PostTradeBestBid{k}V / PostTradeBestAsk{k}V: the BBO after the k-th following book update.
inline constexpr std::array<int64_t, 3> kPostTradeUpdates = {1, 3, 10};

/// One print with every modelled field; pending in the simulator until its post-trade fields are
/// known, then appended to TradeRows.
struct TradeRecord {
  uint32_t listing = 0;
  int64_t time_ns = 0, publication_ns = 0;
  uint64_t trade_id = 0;
  int64_t sequence_no = 0;
  uint8_t sequence_source = 1;
  PrintKind kind = PrintKind::kLitContinuous;
  uint8_t aggressor = 0;
  uint8_t state = 0, state_at_primary = 0;
  bool dark = false, block = false, retail = false, algo = false, negotiated = false, crossing = false;
  uint8_t lot_type = 0;  // 0 ROUND, 1 MIXED, 2 ODD
  double price = 0, size = 0, notional = 0, notional_eur = 0, notional_usd = 0;
  double bid = kNullDouble, bid_size = kNullDouble, ask = kNullDouble, ask_size = kNullDouble;
  double bid_primary = kNullDouble, bid_size_primary = kNullDouble;
  double ask_primary = kNullDouble, ask_size_primary = kNullDouble;
  int64_t prior_quote_rank = 1;
  int64_t pre_elapsed = kNullInt, post_elapsed = kNullInt;
  double price_point = kNullDouble, price_point_primary = kNullDouble;
  double order_remaining = kNullDouble, bbo_remaining = kNullDouble;
  std::array<double, kHorizons> pre_mid{}, post_mid{}, pre_mid_primary{}, post_mid_primary{};
  double post_mid_now = kNullDouble, post_mid_now_primary = kNullDouble;
  std::array<double, 3> post_bid{}, post_ask{};

  // Resolution bookkeeping (not written).
  int64_t l2_updates_at_trade = 0;
  uint8_t resolved_updates = 0;  // bit k: post_bid/post_ask[k] known
  bool resolved_post_elapsed = false;
};

struct TradeRows : RowBuffer<TradeRows> {
  std::vector<uint32_t> listing;
  std::vector<TradeRecord> records;

  void Append(const TradeRecord& r) {
    listing.push_back(r.listing);
    records.push_back(r);
  }
  template <typename F>
  void ForEachColumn(F&& f) {
    f(listing), f(records);
  }
};

/// Everything one (day, MIC) file set receives, for every table but reference.
struct RowBuffers {
  L3Rows l3;
  BookRows l2;
  BookRows cbbo;
  MarketStateRows states;
  ImbalanceRows imbalance;
  TradeRows trades;
};

}  // namespace intraday::gen
