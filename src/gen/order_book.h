// A price-time priority limit order book on an integer tick grid: price levels holding FIFO
// queues of orders, with what the L3 and L2 tables need (queue ahead of an order, level index of
// a price, top-N levels). The book never matches by itself: the simulator decides executions and
// calls Remove/Reduce, which keeps the L3 messages and the book in lockstep.
#pragma once

#include <cstdint>
#include <vector>

namespace intraday::gen {

class Rng;

enum class Side : uint8_t { kBid = 1, kAsk = 2 };  // the L3 Side codes
inline Side Opposite(Side s) { return s == Side::kBid ? Side::kAsk : Side::kBid; }

class OrderBook {
 public:
  using Handle = int32_t;
  static constexpr Handle kNone = -1;

  struct Order {
    uint64_t id = 0;
    int64_t tick = 0;
    int64_t size = 0;
    Side side = Side::kBid;
    Handle prev = kNone, next = kNone;  // neighbours in the level's queue
    int32_t live_pos = -1;              // index in live_ (for uniform random picks)
  };

  /// Where an order sits: its level's rank from the touch (1 = best; 0 = no such level) and the
  /// queue ahead of it at that level.
  struct Position {
    int32_t level = 0;
    int64_t size_ahead = 0;
    int64_t orders_ahead = 0;
  };

  struct LevelView {
    int64_t tick = 0;
    int64_t quantity = 0;
    int32_t orders = 0;
  };

  /// Ticks are kept in a window of +-half_width around center_tick (a day never moves that far).
  explicit OrderBook(int64_t center_tick, int64_t half_width = 2048);

  bool InRange(int64_t tick) const { return tick >= base_ && tick < base_ + width_; }

  /// Appends an order to the back of its level. `level_before` = rank of the level before the
  /// insert (0 when the level is new); `after` = the order's position after the insert.
  Handle Add(Side side, int64_t tick, int64_t size, uint64_t id, int32_t* level_before, Position* after);
  /// Removes an order. `before` = its position before; `level_after` = rank of its price level
  /// after the removal (0 when the level vanished).
  void Remove(Handle h, Position* before, int32_t* level_after);
  /// Shrinks an order in place: it keeps its queue priority.
  void Reduce(Handle h, int64_t new_size);

  const Order& order(Handle h) const { return orders_[h]; }
  bool empty(Side side) const { return side_orders_[Index(side)] == 0; }
  /// Best price of a side; only meaningful when !empty(side).
  int64_t best(Side side) const { return best_[Index(side)]; }
  int32_t level_count(Side side) const { return level_count_[Index(side)]; }
  int64_t order_count() const { return static_cast<int64_t>(live_.size()); }
  int64_t order_count(Side side) const { return side_orders_[Index(side)]; }

  /// Rank of the level at `tick` (1 = best), 0 if that level is empty.
  int32_t LevelRank(Side side, int64_t tick) const;
  Position PositionOf(Handle h) const;
  int64_t LevelQuantity(Side side, int64_t tick) const { return Level(side, tick).quantity; }
  int32_t LevelOrders(Side side, int64_t tick) const { return Level(side, tick).orders; }
  Handle FrontAt(Side side, int64_t tick) const { return Level(side, tick).head; }
  Handle Next(Handle h) const { return orders_[h].next; }

  /// A uniformly random live order, kNone when the book is empty.
  Handle RandomOrder(Rng& rng) const;
  /// Fills out[0..n) with the best levels of a side; returns how many exist (<= n).
  int TopLevels(Side side, int n, LevelView* out) const;

 private:
  struct PriceLevel {
    int64_t quantity = 0;
    int32_t orders = 0;
    Handle head = kNone, tail = kNone;
  };
  static int Index(Side side) { return side == Side::kBid ? 0 : 1; }
  PriceLevel& Level(Side side, int64_t tick) { return levels_[Index(side)][tick - base_]; }
  const PriceLevel& Level(Side side, int64_t tick) const { return levels_[Index(side)][tick - base_]; }
  /// Moves best_ of a side away from the touch to the next non-empty level.
  void RefreshBest(Side side);

  int64_t base_;
  int64_t width_;
  std::vector<PriceLevel> levels_[2];
  std::vector<Order> orders_;
  std::vector<Handle> free_;
  std::vector<Handle> live_;
  int64_t best_[2] = {0, 0};
  int64_t side_orders_[2] = {0, 0};
  int32_t level_count_[2] = {0, 0};
};

}  // namespace intraday::gen
