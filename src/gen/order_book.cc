#include "gen/order_book.h"

#include "gen/random.h"

namespace intraday::gen {

OrderBook::OrderBook(int64_t center_tick, int64_t half_width)
    : base_(center_tick - half_width), width_(2 * half_width) {
  levels_[0].resize(static_cast<size_t>(width_));
  levels_[1].resize(static_cast<size_t>(width_));
}

OrderBook::Handle OrderBook::Add(Side side, int64_t tick, int64_t size, uint64_t id, int32_t* level_before,
                                 Position* after) {
  Handle h;
  if (!free_.empty()) {
    h = free_.back();
    free_.pop_back();
  } else {
    h = static_cast<Handle>(orders_.size());
    orders_.emplace_back();
  }
  const int s = Index(side);
  PriceLevel& level = Level(side, tick);
  *level_before = level.orders > 0 ? LevelRank(side, tick) : 0;
  after->size_ahead = level.quantity;
  after->orders_ahead = level.orders;

  Order& o = orders_[h];
  o = Order{id, tick, size, side, level.tail, kNone, static_cast<int32_t>(live_.size())};
  if (level.tail != kNone) {
    orders_[level.tail].next = h;
  } else {
    level.head = h;
    ++level_count_[s];
  }
  level.tail = h;
  level.quantity += size;
  ++level.orders;
  live_.push_back(h);

  const bool better = side == Side::kBid ? tick > best_[s] : tick < best_[s];
  if (side_orders_[s] == 0 || better) best_[s] = tick;
  ++side_orders_[s];
  after->level = LevelRank(side, tick);
  return h;
}

void OrderBook::Remove(Handle h, Position* before, int32_t* level_after) {
  *before = PositionOf(h);
  Order& o = orders_[h];
  const int s = Index(o.side);
  PriceLevel& level = Level(o.side, o.tick);
  if (o.prev != kNone) {
    orders_[o.prev].next = o.next;
  } else {
    level.head = o.next;
  }
  if (o.next != kNone) {
    orders_[o.next].prev = o.prev;
  } else {
    level.tail = o.prev;
  }
  level.quantity -= o.size;
  --level.orders;
  --side_orders_[s];

  // Swap-remove from the live list.
  const Handle moved = live_.back();
  live_[o.live_pos] = moved;
  orders_[moved].live_pos = o.live_pos;
  live_.pop_back();
  free_.push_back(h);

  if (level.orders == 0) {
    --level_count_[s];
    *level_after = 0;
    if (o.tick == best_[s] && side_orders_[s] > 0) RefreshBest(o.side);
  } else {
    *level_after = before->level;
  }
}

void OrderBook::Reduce(Handle h, int64_t new_size) {
  Order& o = orders_[h];
  Level(o.side, o.tick).quantity -= o.size - new_size;
  o.size = new_size;
}

void OrderBook::RefreshBest(Side side) {
  const int s = Index(side);
  const int64_t step = side == Side::kBid ? -1 : 1;
  int64_t t = best_[s];
  while (levels_[s][t - base_].orders == 0) t += step;
  best_[s] = t;
}

int32_t OrderBook::LevelRank(Side side, int64_t tick) const {
  const int s = Index(side);
  if (side_orders_[s] == 0 || levels_[s][tick - base_].orders == 0) return 0;
  int32_t rank = 0;
  if (side == Side::kBid) {
    for (int64_t t = best_[s]; t >= tick; --t) rank += levels_[s][t - base_].orders > 0;
  } else {
    for (int64_t t = best_[s]; t <= tick; ++t) rank += levels_[s][t - base_].orders > 0;
  }
  return rank;
}

OrderBook::Position OrderBook::PositionOf(Handle h) const {
  const Order& o = orders_[h];
  Position pos;
  for (Handle cur = Level(o.side, o.tick).head; cur != h; cur = orders_[cur].next) {
    pos.size_ahead += orders_[cur].size;
    ++pos.orders_ahead;
  }
  pos.level = LevelRank(o.side, o.tick);
  return pos;
}

OrderBook::Handle OrderBook::RandomOrder(Rng& rng) const {
  if (live_.empty()) return kNone;
  return live_[rng.Below(live_.size())];
}

int OrderBook::TopLevels(Side side, int n, LevelView* out) const {
  const int s = Index(side);
  const int wanted = n < level_count_[s] ? n : level_count_[s];
  const int64_t step = side == Side::kBid ? -1 : 1;
  int found = 0;
  for (int64_t t = best_[s]; found < wanted; t += step) {
    const PriceLevel& level = levels_[s][t - base_];
    if (level.orders > 0) out[found++] = LevelView{t, level.quantity, level.orders};
  }
  return found;
}

}  // namespace intraday::gen
