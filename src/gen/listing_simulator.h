// One listing-day of market activity, simulated event by event from a single L3 message flow:
// the opening auction builds the book and uncrosses, continuous trading runs inserts, cancels,
// modifications and marketable orders against a real order book, the closing auction uncrosses,
// and off-book prints are reported alongside. Every L2 row is the book after an event touching
// its top 10 levels; every lit print is one fill of an L3 message.
//
// The simulator draws only from streams keyed by (seed, ListingId or InstrumentId, day), so its
// output is the same whatever else is simulated alongside it. Callers interleave simulators by
// next_time() (time layout) or run one to the end (listing layout); trades and CBBO rows are held
// until their forward-looking fields are known and handed out in creation order by TryPop*.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>

#include "common/date.h"
#include "gen/activity_clock.h"
#include "gen/latent_price.h"
#include "gen/order_book.h"
#include "gen/random.h"
#include "gen/rows.h"
#include "gen/universe.h"
#include "gen/venue.h"

namespace intraday::gen {

struct SimulatorConfig {
  const Listing* listing = nullptr;
  const Listing* primary = nullptr;  // the instrument's primary listing (== listing if primary)
  uint32_t file_index = 0;           // the rows' `listing` value
  Date day;
  uint64_t seed = 0;
  int64_t mean_events = 3'000;  // profile: mean continuous L3 events per listing-day
};

/// The simulator's knobs and what they give (see docs/generator.md).
struct FlowParams {
  static constexpr double kQuietDayProbability = 0.03;  // no trades at all that day
  static constexpr double kMarketable = 0.016;          // marketable orders per continuous event
  static constexpr double kInsert = 0.45;
  static constexpr double kModify = 0.088;
  static constexpr double kNearTouch = 0.30;          // inserts within 9 ticks of the own best
  static constexpr double kImproveWhenWide = 0.7;     // inserts improving a spread wider than 1 tick
  static constexpr double kOffBookPerLitFill = 0.40;  // ~30% of all prints are off-book
};

class ListingSimulator {
 public:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  explicit ListingSimulator(const SimulatorConfig& config);

  bool done() const { return next_time_ == kNever; }
  /// Time of the next event (strictly increasing per listing), kNever when the day is over.
  int64_t next_time() const { return next_time_; }

  /// Processes the next event: appends L3, L2, market-state and imbalance rows to `out` and
  /// queues any trades and CBBO rows it creates.
  void Step(RowBuffers& out);

  /// Trades / CBBO buckets created by the last Step (the time layout queues one token for each).
  int created_trades() const { return created_trades_; }
  int created_cbbo() const { return created_cbbo_; }

  /// Appends the oldest pending trade to `out` if it is final given that every event before `now`
  /// (of every listing) has been processed; returns whether it did.
  bool TryPopTrade(int64_t now, TradeRows& out);
  bool TryPopCbbo(int64_t now, BookRows& out);
  bool has_pending() const { return !pending_.empty() || !cbbo_pending_.empty(); }

  const Listing& listing() const { return *config_.listing; }

 private:
  enum class Source : uint8_t { kUncross, kState, kAuction, kContinuous, kOffBook, kNone };
  struct Snapshot {
    std::array<OrderBook::LevelView, kBookLevels> bids{}, asks{};
    int n_bids = 0, n_asks = 0;
    int32_t bid_levels = 0, ask_levels = 0;
    int64_t l2_event_no = 0, sequence_no = 0;
    uint8_t state = 0;
  };
  struct CbboEntry {
    int64_t bucket_end = 0;
    Snapshot snapshot;
  };
  // One message of the L3 flow, as the table wants it.
  struct L3Message {
    Side side = Side::kBid;
    uint8_t action = 2;
    uint64_t order_id = 0;
    double price = kNullDouble, old_price = kNullDouble;
    int64_t size = 0, old_size = 0;
    bool executed = false;
    double exec_price = kNullDouble;
    int64_t exec_size = 0;
    uint64_t trade_id = 0;
    int32_t level = 0, old_level = 0;
    int64_t size_ahead = 0, orders_ahead = 0;
    int32_t del_index = -1, add_index = -1;
    bool pos_change = true;
    LobMessage message = LobMessage::kInsert;
  };

  void ScheduleNext();
  /// Schedules the order entry of an auction in [from, to): `normal_orders` resting orders away
  /// from the auction price plus the crossing orders at it.
  void StartAuction(int64_t from, int64_t to, int64_t normal_orders);

  // Event handlers. Each returns whether the event touched the top 10 levels of the book.
  bool ContinuousEvent(RowBuffers& out);
  bool AuctionEvent(RowBuffers& out);
  bool Uncross(RowBuffers& out, bool opening);
  void OffBookPrint();
  void OnStateChange(RowBuffers& out);

  bool Insert(Side side, int64_t tick, int64_t size, RowBuffers& out);
  bool Cancel(OrderBook::Handle h, RowBuffers& out);
  bool Modify(OrderBook::Handle h, RowBuffers& out);
  bool Marketable(Side aggressor, RowBuffers& out);
  /// Fills `qty` of a resting order (full: executed remove; partial: executed update).
  bool Fill(OrderBook::Handle h, int64_t qty, uint64_t trade_id, RowBuffers& out);
  void EmitL3(const L3Message& m, RowBuffers& out);
  void AppendBook(BookRows& rows, int64_t time_ns, const Snapshot& s) const;
  /// After an event: L2 row and CBBO bucket if it touched the top 10; BBO and mid tracking;
  /// post-trade fields of the trades it created.
  void AfterEvent(bool touched, RowBuffers& out);

  // Trades.
  uint64_t NextTradeId();
  TradeRecord& NewTrade(PrintKind kind, double price, double size, uint64_t trade_id);
  /// Resolves the post-trade horizons whose target time is before t, with the current book.
  void ResolveBefore(int64_t t);
  double MidAt(int64_t t) const;
  double Mid() const;
  double BestPrice(Side side) const;
  double LatentTicks(int64_t t) const;

  int64_t DrawOrderSize(Rng& rng, double scale = 1.0);
  int64_t NearestTick(double price) const;

  SimulatorConfig config_;
  const Listing& l_;
  Session session_;
  Session primary_session_;  // nominal session of the primary's venue (MarketStateAtPrimary)
  LatentPath latent_;
  ActivityClock clock_;
  OrderBook book_;
  Rng flow_rng_, auction_rng_, offbook_rng_, flags_rng_;

  // Sizes of the day.
  bool quiet_ = false;
  double expected_events_ = 0;
  int64_t target_orders_per_side_ = 0;
  double expected_offbook_ = 0;
  int64_t crossing_orders_ = 0;  // per side and auction

  // Sources of events.
  int64_t next_time_ = kNever;
  Source next_source_ = Source::kNone;
  int64_t last_time_ = 0;
  size_t state_index_ = 0;
  MarketState state_ = MarketState::kClosed;
  int64_t auction_next_ = kNever;  // next auction order entry (opening, then closing auction)
  int64_t auction_end_ = 0;
  double auction_gap_ = 1;
  bool opening_auction_ = true;
  double auction_cross_share_ = 0;
  int64_t opening_uncross_ = kNever, closing_uncross_ = kNever;
  int64_t opening_price_tick_ = 0, closing_price_tick_ = 0;
  double cont_u_ = 0;
  int64_t cont_next_ = kNever;
  double off_u_ = 0;
  int64_t off_next_ = kNever;

  // Counters.
  uint64_t order_id_base_ = 0, trade_id_base_ = 0;
  uint64_t orders_ = 0, trades_ = 0;
  int64_t sequence_no_ = 1000, offbook_sequence_no_ = 1000, event_no_ = 0, l2_event_no_ = 0;
  int rows_in_event_ = 0;

  // Book tracking for trades.
  int64_t now_ = 0;
  int64_t bbo_bid_ = 0, bbo_ask_ = 0, bbo_bid_qty_ = 0, bbo_ask_qty_ = 0;  // last seen BBO (ticks)
  bool bbo_bid_valid_ = false, bbo_ask_valid_ = false;
  int64_t last_bbo_change_ = kNever;
  std::deque<std::pair<int64_t, double>> mid_history_;  // (time, mid from then on)
  // The BBO before the current event: what the trades it creates quote against.
  double pre_bid_ = kNullDouble, pre_ask_ = kNullDouble, pre_bid_size_ = kNullDouble,
         pre_ask_size_ = kNullDouble;

  // Pending trades, oldest first; the indices below are absolute (popped_ + position).
  std::deque<TradeRecord> pending_;
  int64_t popped_ = 0;
  std::array<int64_t, kHorizons> horizon_next_{};
  std::array<int64_t, 3> update_next_{};
  int64_t elapsed_next_ = 0;
  int created_trades_ = 0;
  int64_t first_new_trade_ = 0;  // absolute index of the first trade of the current Step

  std::deque<CbboEntry> cbbo_pending_;
  int created_cbbo_ = 0;
};

}  // namespace intraday::gen
