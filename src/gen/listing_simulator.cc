#include "gen/listing_simulator.h"

#include <algorithm>
#include <cmath>

namespace intraday::gen {
namespace {

constexpr int64_t kMsNs = 1'000'000;
constexpr int64_t kMinuteNs = 60'000 * kMsNs;
constexpr int64_t kMaxHorizonNs = kMidHorizonsMs.back() * kMsNs;
constexpr int64_t kNotYet = ListingSimulator::kNever / 4;  // l2_updates_at_trade before it is known
constexpr int kTopLevels = kBookLevels;
constexpr int kMaxSweep = 16;

bool InTop(int32_t level) { return level >= 1 && level <= kTopLevels; }

// Two doubles equal, NaN included (a mid that stays unknown is no change).
bool SameValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

int64_t UsOpen(Date day) {
  // 14:30 UTC in winter; the US switches to summer time a few weeks before Europe, ignored here.
  const bool eu_summer = UtcOffsetMinutes(TimeZone::kCentralEurope, day) == 120;
  return day.start_ns() + (eu_summer ? 13 * 60 + 30 : 14 * 60 + 30) * kMinuteNs;
}

Session ListingSession(const SimulatorConfig& c) {
  Rng rng(StreamSeed(c.seed, StreamTag::kSession, static_cast<uint64_t>(c.listing->listing_id),
                     static_cast<uint64_t>(c.day.days_since_epoch())));
  return MakeSession(*c.listing->venue, c.day, &rng);
}

uint64_t StreamOf(const SimulatorConfig& c, StreamTag tag) {
  return StreamSeed(c.seed, tag, static_cast<uint64_t>(c.listing->listing_id),
                    static_cast<uint64_t>(c.day.days_since_epoch()));
}

// Ids unique per listing-day, shaped like the vendor's long decimal ids.
uint64_t IdBase(const SimulatorConfig& c, uint64_t scale) {
  return (static_cast<uint64_t>(c.day.days_since_epoch()) * 1'000'000 +
          static_cast<uint64_t>(c.listing->listing_id % 1'000'000)) *
         scale;
}

}  // namespace

ListingSimulator::ListingSimulator(const SimulatorConfig& config)
    : config_(config),
      l_(*config.listing),
      session_(ListingSession(config)),
      primary_session_(MakeSession(*config.primary->venue, config.day, nullptr)),
      latent_(config.seed, l_.instrument_id, config.day, config.primary->base_price, l_.daily_vol),
      clock_(session_.open, session_.closing_auction, UsOpen(config.day)),
      book_(static_cast<int64_t>(
          std::llround(latent_.PriceAt(session_.open) * l_.fx_from_primary / l_.tick.value()))),
      flow_rng_(StreamOf(config, StreamTag::kFlow)),
      auction_rng_(StreamOf(config, StreamTag::kAuction)),
      offbook_rng_(StreamOf(config, StreamTag::kOffBook)),
      flags_rng_(StreamOf(config, StreamTag::kTradeFlags)) {
  Rng day_rng(StreamOf(config, StreamTag::kListingDay));
  quiet_ = day_rng.Bernoulli(FlowParams::kQuietDayProbability);
  const double noise = std::exp(0.25 * day_rng.Normal() - 0.03125);  // mean 1
  expected_events_ = std::max(20.0, static_cast<double>(config.mean_events) * l_.activity * noise);
  if (quiet_) expected_events_ = std::max(10.0, expected_events_ * 0.02);
  // Resting depth grows with activity; at least 40 orders a side, so that most of the book's
  // messages land beyond its top 10 levels (L2 rows ~ 40% of L3 rows, as in real books).
  target_orders_per_side_ = std::clamp<int64_t>(std::llround(12 + std::sqrt(expected_events_) / 2), 40, 300);
  const double lit_fills = expected_events_ * FlowParams::kMarketable * 1.43;
  expected_offbook_ = quiet_ ? 0.0 : lit_fills * FlowParams::kOffBookPerLitFill;
  crossing_orders_ =
      quiet_ ? 0 : std::clamp<int64_t>(std::llround(1 + std::sqrt(expected_events_) / 40), 1, 60);

  order_id_base_ = IdBase(config, 100'000'000);
  trade_id_base_ = IdBase(config, 10'000'000);
  opening_price_tick_ = NearestTick(latent_.PriceAt(session_.open) * l_.fx_from_primary);
  opening_uncross_ = session_.open;
  closing_uncross_ = session_.close;

  // Opening auction: order entry concentrates in its last ten minutes.
  const int64_t normal = 2 * target_orders_per_side_ + target_orders_per_side_ / 5;
  StartAuction(std::max(session_.opening_auction, session_.open - 10 * kMinuteNs), session_.open, normal);

  cont_u_ = flow_rng_.Exponential(1.0 / expected_events_);
  cont_next_ = cont_u_ < 1.0 ? clock_.TimeAt(cont_u_) : kNever;
  if (expected_offbook_ > 0) {
    off_u_ = offbook_rng_.Exponential(1.0 / expected_offbook_);
    off_next_ = off_u_ < 1.0 ? clock_.TimeAt(off_u_) : kNever;
  }
  ScheduleNext();
}

void ListingSimulator::StartAuction(int64_t from, int64_t to, int64_t normal_orders) {
  const double inserts = static_cast<double>(normal_orders + 2 * crossing_orders_);
  const double events = inserts / 0.92;  // and 8% cancellations
  auction_cross_share_ = 2.0 * static_cast<double>(crossing_orders_) / std::max(inserts, 1.0);
  auction_end_ = to;
  auction_gap_ = static_cast<double>(std::max<int64_t>(to - from, 1)) / std::max(events, 1.0);
  const int64_t first = from + static_cast<int64_t>(auction_rng_.Exponential(auction_gap_));
  auction_next_ = first < to ? first : kNever;
}

void ListingSimulator::ScheduleNext() {
  struct Candidate {
    int64_t time;
    Source source;
  };
  // Ties go to the earlier entry: an uncrossing precedes the state change it ends.
  const Candidate candidates[] = {
      {std::min(opening_uncross_, closing_uncross_), Source::kUncross},
      {state_index_ < session_.changes.size() ? session_.changes[state_index_].time_ns : kNever,
       Source::kState},
      {auction_next_, Source::kAuction},
      {cont_next_, Source::kContinuous},
      {off_next_, Source::kOffBook},
  };
  Candidate best{kNever, Source::kNone};
  for (const auto& c : candidates) {
    if (c.time < best.time) best = c;
  }
  next_source_ = best.source;
  // Every event of a listing gets its own nanosecond, so that a timestamp names one event.
  next_time_ = best.time == kNever ? kNever : std::max(best.time, last_time_ + 1);
}

void ListingSimulator::Step(RowBuffers& out) {
  created_trades_ = 0;
  created_cbbo_ = 0;
  rows_in_event_ = 0;
  first_new_trade_ = popped_ + static_cast<int64_t>(pending_.size());
  now_ = next_time_;
  ResolveBefore(now_);

  // The BBO before the event: what the trades it creates quote against.
  pre_bid_ = book_.empty(Side::kBid) ? kNullDouble : l_.tick.Price(book_.best(Side::kBid));
  pre_ask_ = book_.empty(Side::kAsk) ? kNullDouble : l_.tick.Price(book_.best(Side::kAsk));
  pre_bid_size_ = book_.empty(Side::kBid)
                      ? kNullDouble
                      : static_cast<double>(book_.LevelQuantity(Side::kBid, book_.best(Side::kBid)));
  pre_ask_size_ = book_.empty(Side::kAsk)
                      ? kNullDouble
                      : static_cast<double>(book_.LevelQuantity(Side::kAsk, book_.best(Side::kAsk)));

  bool touched = false;
  switch (next_source_) {
    case Source::kUncross:
      if (opening_uncross_ <= closing_uncross_) {
        touched = Uncross(out, /*opening=*/true);
        opening_uncross_ = kNever;
      } else {
        touched = Uncross(out, /*opening=*/false);
        closing_uncross_ = kNever;
      }
      break;
    case Source::kState: OnStateChange(out); break;
    case Source::kAuction: {
      touched = AuctionEvent(out);
      const int64_t next = auction_next_ + static_cast<int64_t>(auction_rng_.Exponential(auction_gap_));
      auction_next_ = next < auction_end_ ? next : kNever;
      break;
    }
    case Source::kContinuous:
      touched = ContinuousEvent(out);
      cont_u_ += flow_rng_.Exponential(1.0 / expected_events_);
      cont_next_ = cont_u_ < 1.0 ? clock_.TimeAt(cont_u_) : kNever;
      if (cont_next_ >= session_.closing_auction) cont_next_ = kNever;
      break;
    case Source::kOffBook:
      OffBookPrint();
      off_u_ += offbook_rng_.Exponential(1.0 / expected_offbook_);
      off_next_ = off_u_ < 1.0 ? clock_.TimeAt(off_u_) : kNever;
      if (off_next_ >= session_.closing_auction) off_next_ = kNever;
      break;
    case Source::kNone: break;
  }
  AfterEvent(touched, out);
  last_time_ = now_;
  ScheduleNext();
}

// ---------------------------------------------------------------------------------------------
// Event handlers

void ListingSimulator::OnStateChange(RowBuffers& out) {
  const StateChange& change = session_.changes[state_index_++];
  state_ = change.state;
  out.states.listing.push_back(config_.file_index);
  out.states.time_ns.push_back(now_);
  out.states.sequence_no.push_back(++sequence_no_);
  out.states.state.push_back(static_cast<uint8_t>(state_));
  out.states.exchange_code.push_back(change.exchange_code);

  if (state_ == MarketState::kClosingAuction) {
    // The closing price sits at the touch, so that the resting book never crosses it.
    if (!book_.empty(Side::kBid) && !book_.empty(Side::kAsk)) {
      closing_price_tick_ = auction_rng_.Bernoulli(0.5) ? book_.best(Side::kBid) : book_.best(Side::kAsk);
    } else if (!book_.empty(Side::kBid)) {
      closing_price_tick_ = book_.best(Side::kBid);
    } else if (!book_.empty(Side::kAsk)) {
      closing_price_tick_ = book_.best(Side::kAsk);
    } else {
      closing_price_tick_ = NearestTick(latent_.PriceAt(now_) * l_.fx_from_primary);
    }
    opening_auction_ = false;
    StartAuction(now_, session_.close, (2 * target_orders_per_side_) / 3);
  }
}

bool ListingSimulator::AuctionEvent(RowBuffers& out) {
  const bool opening = opening_auction_;
  if (state_ != (opening ? MarketState::kOpeningAuction : MarketState::kClosingAuction)) return false;
  const int64_t p = opening ? opening_price_tick_ : closing_price_tick_;
  bool touched = false;
  if (auction_rng_.Bernoulli(0.08) && book_.order_count() > 0) {
    touched = Cancel(book_.RandomOrder(auction_rng_), out);
  } else if (auction_rng_.Bernoulli(auction_cross_share_)) {
    // Orders at the auction price: they cross and execute at the uncrossing.
    const Side side = auction_rng_.Bernoulli(0.5) ? Side::kBid : Side::kAsk;
    touched = Insert(side, p, DrawOrderSize(auction_rng_, 1.5), out);
  } else {
    const Side side = auction_rng_.Bernoulli(0.5) ? Side::kBid : Side::kAsk;
    const int64_t d = 1 + std::min<int64_t>(auction_rng_.Geometric(0.12), 60);
    touched = Insert(side, side == Side::kBid ? p - d : p + d, DrawOrderSize(auction_rng_), out);
  }
  // The indicative uncrossing: what would trade at the auction price now.
  const int64_t bid_qty = book_.InRange(p) ? book_.LevelQuantity(Side::kBid, p) : 0;
  const int64_t ask_qty = book_.InRange(p) ? book_.LevelQuantity(Side::kAsk, p) : 0;
  auto& im = out.imbalance;
  im.listing.push_back(config_.file_index);
  im.time_ns.push_back(now_);
  im.sequence_no.push_back(sequence_no_);
  im.state.push_back(static_cast<uint8_t>(state_));
  im.side.push_back(bid_qty > ask_qty ? 1 : ask_qty > bid_qty ? 2 : 0);
  im.crossed.push_back(bid_qty > 0 && ask_qty > 0);
  im.auction_type.push_back(opening ? 'O' : 'C');
  im.price.push_back(l_.tick.Price(p));
  im.paired.push_back(static_cast<double>(std::min(bid_qty, ask_qty)));
  im.imbalance.push_back(static_cast<double>(std::abs(bid_qty - ask_qty)));
  return touched;
}

bool ListingSimulator::Uncross(RowBuffers& out, bool opening) {
  const int64_t p = opening ? opening_price_tick_ : closing_price_tick_;
  if (!book_.InRange(p)) return false;
  const MarketState saved = state_;
  state_ = opening ? MarketState::kOpeningAuction : MarketState::kClosingAuction;
  bool touched = false;
  // Buy and sell orders at the auction price match in time priority; every pair is one print.
  OrderBook::Handle bid = book_.FrontAt(Side::kBid, p);
  OrderBook::Handle ask = book_.FrontAt(Side::kAsk, p);
  while (bid != OrderBook::kNone && ask != OrderBook::kNone) {
    const OrderBook::Handle next_bid = book_.Next(bid), next_ask = book_.Next(ask);
    const int64_t bid_size = book_.order(bid).size, ask_size = book_.order(ask).size;
    const int64_t qty = std::min(bid_size, ask_size);
    const uint64_t trade_id = NextTradeId();
    touched |= Fill(bid, qty, trade_id, out);
    touched |= Fill(ask, qty, trade_id, out);
    TradeRecord& t = NewTrade(opening ? PrintKind::kOpeningAuction : PrintKind::kClosingAuction,
                              l_.tick.Price(p), static_cast<double>(qty), trade_id);
    t.aggressor = 0;
    bid = qty == bid_size ? next_bid : bid;
    ask = qty == ask_size ? next_ask : ask;
  }
  state_ = saved;
  return touched;
}

bool ListingSimulator::ContinuousEvent(RowBuffers& out) {
  if (state_ != MarketState::kContinuous) return false;
  const double target = 2.0 * static_cast<double>(target_orders_per_side_);
  // Inserts lean against the book's size so that it hovers around its target depth.
  const double fill = std::clamp((target - static_cast<double>(book_.order_count())) / target, -1.0, 1.0);
  const double p_exec = quiet_ ? 0.0 : FlowParams::kMarketable;
  const double p_insert = std::clamp(FlowParams::kInsert * (1.0 + 0.8 * fill), 0.05, 0.85);
  const double u = flow_rng_.Uniform();
  const bool two_sided = !book_.empty(Side::kBid) && !book_.empty(Side::kAsk);
  // Deviation of the book from the efficient price, in ticks: pulls aggressors and quotes.
  const double dev =
      two_sided
          ? LatentTicks(now_) - 0.5 * static_cast<double>(book_.best(Side::kBid) + book_.best(Side::kAsk))
          : 0.0;

  if (u < p_exec) {
    const double p_buy = 0.5 + std::clamp(0.08 * dev, -0.3, 0.3);
    return Marketable(flow_rng_.Bernoulli(p_buy) ? Side::kBid : Side::kAsk, out);
  }
  if (u < p_exec + p_insert || book_.order_count() == 0) {
    Side side;
    int64_t tick;
    if (two_sided && book_.best(Side::kAsk) - book_.best(Side::kBid) > 1 &&
        flow_rng_.Bernoulli(FlowParams::kImproveWhenWide)) {
      // A wide spread attracts an improving quote, more likely on the side the price moves to.
      side = flow_rng_.Bernoulli(0.5 + std::clamp(0.1 * dev, -0.4, 0.4)) ? Side::kBid : Side::kAsk;
      tick = side == Side::kBid ? book_.best(Side::kBid) + 1 : book_.best(Side::kAsk) - 1;
    } else {
      const double nb = static_cast<double>(book_.order_count(Side::kBid));
      const double na = static_cast<double>(book_.order_count(Side::kAsk));
      side = flow_rng_.Bernoulli(0.5 + 0.5 * (na - nb) / std::max(na + nb, 1.0)) ? Side::kBid : Side::kAsk;
      const int64_t d = flow_rng_.Bernoulli(FlowParams::kNearTouch)
                            ? std::min<int64_t>(flow_rng_.Geometric(0.45), 9)
                            : flow_rng_.Between(10, 60);
      const Side other = Opposite(side);
      if (!book_.empty(side)) {
        tick = side == Side::kBid ? book_.best(side) - d : book_.best(side) + d;
      } else if (!book_.empty(other)) {
        tick = side == Side::kBid ? book_.best(other) - 1 - d : book_.best(other) + 1 + d;
      } else {
        const auto mid = static_cast<int64_t>(std::floor(LatentTicks(now_)));
        tick = side == Side::kBid ? mid - d : mid + 1 + d;
      }
    }
    // Limit orders here never cross: marketable flow is the `p_exec` branch.
    if (side == Side::kBid && !book_.empty(Side::kAsk)) tick = std::min(tick, book_.best(Side::kAsk) - 1);
    if (side == Side::kAsk && !book_.empty(Side::kBid)) tick = std::max(tick, book_.best(Side::kBid) + 1);
    if (!book_.InRange(tick)) return false;
    return Insert(side, tick, DrawOrderSize(flow_rng_), out);
  }
  if (u < p_exec + p_insert + FlowParams::kModify) return Modify(book_.RandomOrder(flow_rng_), out);

  OrderBook::Handle victim = OrderBook::kNone;
  if (two_sided && flow_rng_.Bernoulli(0.2)) {
    // Quotes get pulled ahead of a move: cancel at the touch of the side the price moves towards.
    const Side side = flow_rng_.Bernoulli(0.5 + std::clamp(0.1 * dev, -0.35, 0.35)) ? Side::kAsk : Side::kBid;
    const int64_t tick = book_.best(side);
    victim = book_.FrontAt(side, tick);
    for (int64_t skip = flow_rng_.Below(static_cast<uint64_t>(book_.LevelOrders(side, tick))); skip > 0;
         --skip) {
      victim = book_.Next(victim);
    }
  } else {
    victim = book_.RandomOrder(flow_rng_);
  }
  return Cancel(victim, out);
}

bool ListingSimulator::Insert(Side side, int64_t tick, int64_t size, RowBuffers& out) {
  if (!book_.InRange(tick)) return false;
  const uint64_t id = order_id_base_ + (++orders_);
  int32_t level_before = 0;
  OrderBook::Position after;
  book_.Add(side, tick, size, id, &level_before, &after);
  L3Message m;
  m.side = side;
  m.action = 2;
  m.order_id = id;
  m.price = l_.tick.Price(tick);
  m.size = size;
  m.level = after.level;
  m.old_level = level_before;
  m.size_ahead = after.size_ahead;
  m.orders_ahead = after.orders_ahead;
  m.add_index = static_cast<int32_t>(after.orders_ahead);
  m.message = LobMessage::kInsert;
  EmitL3(m, out);
  return InTop(after.level);
}

bool ListingSimulator::Cancel(OrderBook::Handle h, RowBuffers& out) {
  if (h == OrderBook::kNone) return false;
  const OrderBook::Order o = book_.order(h);
  OrderBook::Position before;
  int32_t level_after = 0;
  book_.Remove(h, &before, &level_after);
  L3Message m;
  m.side = o.side;
  m.action = 3;
  m.order_id = o.id;
  m.old_price = l_.tick.Price(o.tick);
  m.old_size = o.size;
  m.level = level_after;
  m.old_level = before.level;
  m.size_ahead = before.size_ahead;
  m.orders_ahead = before.orders_ahead;
  m.del_index = static_cast<int32_t>(before.orders_ahead);
  m.message = LobMessage::kDelete;
  EmitL3(m, out);
  return InTop(before.level);
}

bool ListingSimulator::Modify(OrderBook::Handle h, RowBuffers& out) {
  if (h == OrderBook::kNone) return false;
  const OrderBook::Order o = book_.order(h);
  const Side other = Opposite(o.side);
  int64_t new_tick = o.tick;
  int64_t new_size = o.size;
  if (flow_rng_.Bernoulli(0.6)) {
    // A price amendment by 1-3 ticks, away from the other side when it would cross.
    const int64_t delta = flow_rng_.Between(1, 3) * (flow_rng_.Bernoulli(0.5) ? 1 : -1);
    new_tick = o.tick + delta;
    const bool crosses = !book_.empty(other) && (o.side == Side::kBid ? new_tick >= book_.best(other)
                                                                      : new_tick <= book_.best(other));
    if (crosses) new_tick = o.side == Side::kBid ? o.tick - std::abs(delta) : o.tick + std::abs(delta);
    if (!book_.InRange(new_tick)) new_tick = o.tick;
    if (flow_rng_.Bernoulli(0.3)) new_size = DrawOrderSize(flow_rng_);
  } else {
    new_size = std::max<int64_t>(1, std::llround(static_cast<double>(o.size) * flow_rng_.Uniform(0.3, 1.6)));
  }
  if (new_tick == o.tick && new_size == o.size) new_size = o.size > 1 ? o.size - 1 : 2;

  L3Message m;
  m.side = o.side;
  m.action = 4;
  m.order_id = o.id;
  m.price = l_.tick.Price(new_tick);
  m.size = new_size;
  m.old_price = l_.tick.Price(o.tick);
  m.old_size = o.size;
  m.message = LobMessage::kUpdate;
  bool touched;
  if (new_tick == o.tick && new_size < o.size) {
    // Shrinking keeps the order's place in the queue.
    const OrderBook::Position pos = book_.PositionOf(h);
    book_.Reduce(h, new_size);
    m.level = m.old_level = pos.level;
    m.size_ahead = pos.size_ahead;
    m.orders_ahead = pos.orders_ahead;
    m.del_index = m.add_index = static_cast<int32_t>(pos.orders_ahead);
    m.pos_change = false;
    touched = InTop(pos.level);
  } else {
    // A new price or a larger size: the order loses priority (back of the queue).
    OrderBook::Position before, after;
    int32_t level_after_removal = 0, level_before_add = 0;
    book_.Remove(h, &before, &level_after_removal);
    book_.Add(o.side, new_tick, new_size, o.id, &level_before_add, &after);
    m.level = after.level;
    m.old_level = before.level;
    m.size_ahead = after.size_ahead;
    m.orders_ahead = after.orders_ahead;
    m.del_index = static_cast<int32_t>(before.orders_ahead);
    m.add_index = static_cast<int32_t>(after.orders_ahead);
    touched = InTop(before.level) || InTop(after.level);
  }
  EmitL3(m, out);
  return touched;
}

bool ListingSimulator::Marketable(Side aggressor, RowBuffers& out) {
  const Side resting = Opposite(aggressor);
  if (book_.empty(resting)) return false;
  const int64_t tick = book_.best(resting);
  const double price = l_.tick.Price(tick);
  // The order takes the first k orders of the touch (the last one possibly in part): one
  // timestamp, k fills, k prints. It never walks to a second level, so every lit print is at the
  // best price of the moment.
  const int64_t k = std::min<int64_t>(1 + flow_rng_.Geometric(0.7), kMaxSweep);
  std::array<std::pair<OrderBook::Handle, int64_t>, kMaxSweep> fills;
  int n = 0;
  int64_t total = 0;
  for (OrderBook::Handle h = book_.FrontAt(resting, tick); h != OrderBook::kNone && n < k;
       h = book_.Next(h)) {
    const int64_t size = book_.order(h).size;
    const bool partial = n == k - 1 && size > 1 && flow_rng_.Bernoulli(0.35);
    const int64_t qty = partial ? flow_rng_.Between(1, size - 1) : size;
    fills[n++] = {h, qty};
    total += qty;
  }
  bool touched = false;
  int64_t done_qty = 0;
  for (int i = 0; i < n; ++i) {
    const uint64_t trade_id = NextTradeId();
    touched |= Fill(fills[i].first, fills[i].second, trade_id, out);
    done_qty += fills[i].second;
    TradeRecord& t =
        NewTrade(PrintKind::kLitContinuous, price, static_cast<double>(fills[i].second), trade_id);
    t.aggressor = aggressor == Side::kBid ? 1 : 2;
    t.order_remaining = static_cast<double>(total - done_qty);
    t.bbo_remaining = static_cast<double>(book_.LevelQuantity(resting, tick));
    t.algo = flags_rng_.Bernoulli(0.75);
    t.retail = flags_rng_.Bernoulli(0.02);
    t.lot_type = flags_rng_.Bernoulli(0.02) ? 2 : 0;
  }
  return touched;
}

bool ListingSimulator::Fill(OrderBook::Handle h, int64_t qty, uint64_t trade_id, RowBuffers& out) {
  const OrderBook::Order o = book_.order(h);
  L3Message m;
  m.side = o.side;
  m.order_id = o.id;
  m.executed = true;
  m.exec_price = l_.tick.Price(o.tick);
  m.exec_size = qty;
  m.trade_id = trade_id;
  m.old_price = m.exec_price;
  m.old_size = o.size;
  int32_t level;
  if (qty >= o.size) {
    OrderBook::Position before;
    int32_t level_after = 0;
    book_.Remove(h, &before, &level_after);
    m.action = 3;
    m.level = level_after;
    m.old_level = level = before.level;
    m.size_ahead = before.size_ahead;
    m.orders_ahead = before.orders_ahead;
    m.del_index = static_cast<int32_t>(before.orders_ahead);
    m.message = LobMessage::kDelete;
  } else {
    const OrderBook::Position pos = book_.PositionOf(h);
    book_.Reduce(h, o.size - qty);
    m.action = 4;
    m.price = m.exec_price;
    m.size = o.size - qty;
    m.level = m.old_level = level = pos.level;
    m.size_ahead = pos.size_ahead;
    m.orders_ahead = pos.orders_ahead;
    m.del_index = m.add_index = static_cast<int32_t>(pos.orders_ahead);
    m.pos_change = false;
    m.message = LobMessage::kUpdate;
  }
  EmitL3(m, out);
  return InTop(level);
}

void ListingSimulator::OffBookPrint() {
  Rng& rng = offbook_rng_;
  double mid = Mid();
  double half_spread = l_.tick.value();
  if (std::isnan(mid)) {
    mid = latent_.PriceAt(now_) * l_.fx_from_primary;
  } else {
    half_spread = 0.5 * (l_.tick.Price(book_.best(Side::kAsk)) - l_.tick.Price(book_.best(Side::kBid)));
  }
  // Off-book prices are not on the tick grid: a hundredth of a tick, around the mid.
  const TickSize sub{l_.tick.num, l_.tick.den * 100};
  const double raw = mid + rng.Normal() * 0.6 * half_spread;
  const double price = sub.Price(std::max<int64_t>(1, std::llround(raw / sub.value())));
  const bool fractional = rng.Bernoulli(0.15);
  double size = std::max(1.0, std::floor(rng.LogNormal(2.5 * l_.median_order_size, 1.3)));
  if (fractional) size += std::floor(rng.Uniform(0.01, 0.99) * 1e6) / 1e6;
  const bool si = rng.Bernoulli(0.45);

  TradeRecord& t = NewTrade(si ? PrintKind::kSystematicInternaliser : PrintKind::kOffBookOnExchange, price,
                            size, NextTradeId());
  t.publication_ns = now_ + static_cast<int64_t>(rng.Exponential(si ? 3e9 : 2e8));
  t.sequence_no = ++offbook_sequence_no_;
  t.sequence_source = 2;
  t.aggressor = 0;
  t.state = static_cast<uint8_t>(MarketState::kNotApplicable);
  t.dark = !si && rng.Bernoulli(0.3);
  t.negotiated = !si && rng.Bernoulli(0.08);
  t.crossing = rng.Bernoulli(0.02);
  t.retail = rng.Bernoulli(si ? 0.12 : 0.02);
  t.algo = rng.Bernoulli(0.05);
  t.lot_type = fractional ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Rows and book tracking

void ListingSimulator::EmitL3(const L3Message& m, RowBuffers& out) {
  L3Rows& r = out.l3;
  // Messages of one event share its timestamp; only the last one closes it.
  if (rows_in_event_++ > 0) r.end_of_event.back() = 0;
  r.listing.push_back(config_.file_index);
  r.time_ns.push_back(now_);
  r.event_no.push_back(++event_no_);
  r.sequence_no.push_back(++sequence_no_);
  r.side.push_back(static_cast<uint8_t>(m.side));
  r.action.push_back(m.action);
  r.order_id.push_back(m.order_id);
  r.price.push_back(m.price);
  r.old_price.push_back(m.old_price);
  r.exec_price.push_back(m.exec_price);
  r.size.push_back(m.size);
  r.old_size.push_back(m.old_size);
  r.exec_size.push_back(m.exec_size);
  r.size_ahead.push_back(m.size_ahead);
  r.orders_ahead.push_back(m.orders_ahead);
  r.trade_id.push_back(m.trade_id);
  r.price_level.push_back(m.level);
  r.old_price_level.push_back(m.old_level);
  r.del_index.push_back(m.del_index);
  r.add_index.push_back(m.add_index);
  r.executed.push_back(m.executed);
  r.pos_change.push_back(m.pos_change);
  r.end_of_event.push_back(1);
  r.state.push_back(static_cast<uint8_t>(state_));
  r.message.push_back(static_cast<char>(m.message));
}

void ListingSimulator::AppendBook(BookRows& rows, int64_t time_ns, const Snapshot& s) const {
  rows.listing.push_back(config_.file_index);
  rows.time_ns.push_back(time_ns);
  rows.l2_event_no.push_back(s.l2_event_no);
  rows.sequence_no.push_back(s.sequence_no);
  rows.state.push_back(s.state);
  rows.bid_levels.push_back(s.bid_levels);
  rows.ask_levels.push_back(s.ask_levels);
  for (int i = 0; i < kBookLevels; ++i) {
    const bool has_bid = i < s.n_bids, has_ask = i < s.n_asks;
    rows.bid_price[i].push_back(has_bid ? l_.tick.Price(s.bids[i].tick) : kNullDouble);
    rows.bid_qty[i].push_back(has_bid ? s.bids[i].quantity : 0);
    rows.bid_orders[i].push_back(has_bid ? s.bids[i].orders : 0);
    rows.ask_price[i].push_back(has_ask ? l_.tick.Price(s.asks[i].tick) : kNullDouble);
    rows.ask_qty[i].push_back(has_ask ? s.asks[i].quantity : 0);
    rows.ask_orders[i].push_back(has_ask ? s.asks[i].orders : 0);
  }
}

void ListingSimulator::AfterEvent(bool touched, RowBuffers& out) {
  if (touched) {
    Snapshot s;
    s.n_bids = book_.TopLevels(Side::kBid, kBookLevels, s.bids.data());
    s.n_asks = book_.TopLevels(Side::kAsk, kBookLevels, s.asks.data());
    s.bid_levels = book_.level_count(Side::kBid);
    s.ask_levels = book_.level_count(Side::kAsk);
    s.l2_event_no = ++l2_event_no_;
    s.sequence_no = sequence_no_;
    s.state = static_cast<uint8_t>(state_);
    AppendBook(out.l2, now_, s);

    // CBBO: the last snapshot of each millisecond, stamped at the millisecond's end.
    const int64_t bucket_end = (now_ / kMsNs + 1) * kMsNs;
    if (!cbbo_pending_.empty() && cbbo_pending_.back().bucket_end == bucket_end) {
      cbbo_pending_.back().snapshot = s;
    } else {
      cbbo_pending_.push_back(CbboEntry{bucket_end, s});
      ++created_cbbo_;
    }

    // PostTradeBestBid{k}V / Ask: the BBO after the k-th book update following a trade.
    const int64_t end = popped_ + static_cast<int64_t>(pending_.size());
    for (size_t k = 0; k < kPostTradeUpdates.size(); ++k) {
      while (update_next_[k] < end) {
        TradeRecord& r = pending_[update_next_[k] - popped_];
        if ((r.resolved_updates & (1u << k)) == 0) {
          if (r.l2_updates_at_trade + kPostTradeUpdates[k] > l2_event_no_) break;
          r.post_bid[k] = BestPrice(Side::kBid);
          r.post_ask[k] = BestPrice(Side::kAsk);
          r.resolved_updates |= static_cast<uint8_t>(1u << k);
        }
        ++update_next_[k];
      }
    }
  }

  // BBO changes (price or size at the touch): elapsed times before / after trades.
  const bool bid_valid = !book_.empty(Side::kBid), ask_valid = !book_.empty(Side::kAsk);
  const int64_t bid = bid_valid ? book_.best(Side::kBid) : 0, ask = ask_valid ? book_.best(Side::kAsk) : 0;
  const int64_t bid_qty = bid_valid ? book_.LevelQuantity(Side::kBid, bid) : 0;
  const int64_t ask_qty = ask_valid ? book_.LevelQuantity(Side::kAsk, ask) : 0;
  if (bid_valid != bbo_bid_valid_ || ask_valid != bbo_ask_valid_ || bid != bbo_bid_ || ask != bbo_ask_ ||
      bid_qty != bbo_bid_qty_ || ask_qty != bbo_ask_qty_) {
    bbo_bid_valid_ = bid_valid;
    bbo_ask_valid_ = ask_valid;
    bbo_bid_ = bid;
    bbo_ask_ = ask;
    bbo_bid_qty_ = bid_qty;
    bbo_ask_qty_ = ask_qty;
    last_bbo_change_ = now_;
    const int64_t end = popped_ + static_cast<int64_t>(pending_.size());
    while (elapsed_next_ < end) {
      TradeRecord& r = pending_[elapsed_next_ - popped_];
      if (!r.resolved_post_elapsed) {
        if (r.time_ns >= now_) break;  // the trade's own event does not count
        r.post_elapsed = now_ - r.time_ns;
        r.resolved_post_elapsed = true;
      }
      ++elapsed_next_;
    }
  }

  const double mid = Mid();
  if (mid_history_.empty() || !SameValue(mid_history_.back().second, mid))
    mid_history_.emplace_back(now_, mid);
  // Keep what PreTradeMid300000ms of later trades can still ask for.
  while (mid_history_.size() >= 2 && mid_history_[1].first <= now_ - kMaxHorizonNs) mid_history_.pop_front();

  for (int64_t i = first_new_trade_; i < popped_ + static_cast<int64_t>(pending_.size()); ++i) {
    TradeRecord& r = pending_[i - popped_];
    r.post_mid_now = mid;
    r.l2_updates_at_trade = l2_event_no_;
  }
}

double ListingSimulator::BestPrice(Side side) const {
  return book_.empty(side) ? kNullDouble : l_.tick.Price(book_.best(side));
}

double ListingSimulator::Mid() const {
  if (book_.empty(Side::kBid) || book_.empty(Side::kAsk)) return kNullDouble;
  return 0.5 * (l_.tick.Price(book_.best(Side::kBid)) + l_.tick.Price(book_.best(Side::kAsk)));
}

double ListingSimulator::MidAt(int64_t t) const {
  // The last mid recorded at or before t.
  auto it = std::upper_bound(mid_history_.begin(), mid_history_.end(), t,
                             [](int64_t value, const auto& entry) { return value < entry.first; });
  if (it == mid_history_.begin()) return kNullDouble;
  return std::prev(it)->second;
}

double ListingSimulator::LatentTicks(int64_t t) const {
  return latent_.PriceAt(t) * l_.fx_from_primary / l_.tick.value();
}

// ---------------------------------------------------------------------------------------------
// Trades

uint64_t ListingSimulator::NextTradeId() { return trade_id_base_ + (++trades_); }

TradeRecord& ListingSimulator::NewTrade(PrintKind kind, double price, double size, uint64_t trade_id) {
  TradeRecord& r = pending_.emplace_back();
  ++created_trades_;
  const VenueInfo& venue = *l_.venue;
  r.listing = config_.file_index;
  r.time_ns = r.publication_ns = now_;
  r.trade_id = trade_id;
  r.sequence_no = sequence_no_;
  r.kind = kind;
  r.price = price;
  r.size = size;
  r.notional = price * size;
  r.notional_eur = r.notional * venue.eur_per_unit;
  r.notional_usd = r.notional * venue.usd_per_unit;
  r.block = r.notional_eur >= l_.block_notional_eur;
  r.state = static_cast<uint8_t>(state_);
  r.state_at_primary = static_cast<uint8_t>(l_.is_primary ? state_ : primary_session_.StateAt(now_));
  r.bid = pre_bid_;
  r.ask = pre_ask_;
  r.bid_size = pre_bid_size_;
  r.ask_size = pre_ask_size_;
  r.price_point = r.ask > r.bid ? (price - r.bid) / (r.ask - r.bid) : kNullDouble;
  r.pre_elapsed = last_bbo_change_ == kNever ? kNullInt : now_ - last_bbo_change_;
  r.prior_quote_rank = 1 + std::min<int64_t>(4, static_cast<int64_t>(size / l_.median_order_size));
  r.l2_updates_at_trade = kNotYet;
  for (int h = 0; h < kHorizons; ++h) {
    r.pre_mid[h] = MidAt(now_ - kMidHorizonsMs[h] * kMsNs);
    r.post_mid[h] = kNullDouble;
  }
  r.post_bid.fill(kNullDouble);
  r.post_ask.fill(kNullDouble);
  if (!l_.is_primary) {
    // The primary's book is not simulated here: it quotes one tick wide around the efficient
    // price, converted into this listing's currency.
    const Listing& p = *config_.primary;
    auto quote = [&](int64_t t, double* bid, double* ask) {
      const double primary_price = latent_.PriceAt(t);
      const int64_t b = static_cast<int64_t>(std::floor(primary_price / p.tick.value()));
      *bid = p.tick.Price(b) * l_.fx_from_primary;
      *ask = p.tick.Price(b + 1) * l_.fx_from_primary;
    };
    auto mid_at = [&](int64_t t) {
      double bid, ask;
      quote(t, &bid, &ask);
      return 0.5 * (bid + ask);
    };
    quote(now_, &r.bid_primary, &r.ask_primary);
    r.bid_size_primary = r.ask_size_primary = std::floor(3 * p.median_order_size);
    r.price_point_primary = (price - r.bid_primary) / (r.ask_primary - r.bid_primary);
    for (int h = 0; h < kHorizons; ++h) {
      r.pre_mid_primary[h] = mid_at(now_ - kMidHorizonsMs[h] * kMsNs);
      r.post_mid_primary[h] = mid_at(now_ + kMidHorizonsMs[h] * kMsNs);
    }
    r.post_mid_now_primary = mid_at(now_);
  }
  return r;
}

void ListingSimulator::ResolveBefore(int64_t t) {
  const int64_t end = popped_ + static_cast<int64_t>(pending_.size());
  for (int h = 0; h < kHorizons; ++h) {
    const int64_t horizon = kMidHorizonsMs[h] * kMsNs;
    while (horizon_next_[h] < end) {
      TradeRecord& r = pending_[horizon_next_[h] - popped_];
      if (r.time_ns >= t - horizon) break;  // target time r.time_ns + horizon not yet before t
      r.post_mid[h] = Mid();
      if (h == kHorizons - 1) {
        // Five minutes on, fields still waiting for book updates take the book as it is.
        for (size_t k = 0; k < kPostTradeUpdates.size(); ++k) {
          if ((r.resolved_updates & (1u << k)) != 0) continue;
          r.post_bid[k] = BestPrice(Side::kBid);
          r.post_ask[k] = BestPrice(Side::kAsk);
          r.resolved_updates |= static_cast<uint8_t>(1u << k);
        }
        if (!r.resolved_post_elapsed) {
          r.post_elapsed = kNullInt;
          r.resolved_post_elapsed = true;
        }
      }
      ++horizon_next_[h];
    }
  }
}

bool ListingSimulator::TryPopTrade(int64_t now, TradeRows& out) {
  if (pending_.empty()) return false;
  auto front_final = [&] { return horizon_next_[kHorizons - 1] > popped_; };
  if (!front_final()) {
    if (done()) {
      ResolveBefore(kNever);
    } else if (pending_.front().time_ns + kMaxHorizonNs < now) {
      // Nothing of this listing happened between the horizons and `now`: its book is as it was.
      ResolveBefore(now);
    }
    if (!front_final()) return false;
  }
  TradeRecord& r = pending_.front();
  if (l_.is_primary) {
    r.bid_primary = r.bid;
    r.ask_primary = r.ask;
    r.bid_size_primary = r.bid_size;
    r.ask_size_primary = r.ask_size;
    r.price_point_primary = r.price_point;
    r.pre_mid_primary = r.pre_mid;
    r.post_mid_primary = r.post_mid;
    r.post_mid_now_primary = r.post_mid_now;
  }
  out.Append(r);
  pending_.pop_front();
  ++popped_;
  for (auto& next : update_next_) next = std::max(next, popped_);
  elapsed_next_ = std::max(elapsed_next_, popped_);
  return true;
}

bool ListingSimulator::TryPopCbbo(int64_t now, BookRows& out) {
  if (cbbo_pending_.empty()) return false;
  const CbboEntry& e = cbbo_pending_.front();
  // Final once every event of the bucket's millisecond has been processed.
  if (!done() && e.bucket_end > now) return false;
  AppendBook(out, e.bucket_end, e.snapshot);
  cbbo_pending_.pop_front();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Draws

int64_t ListingSimulator::DrawOrderSize(Rng& rng, double scale) {
  return std::max<int64_t>(1, std::llround(rng.LogNormal(l_.median_order_size * scale, 0.9)));
}

int64_t ListingSimulator::NearestTick(double price) const {
  return static_cast<int64_t>(std::llround(price / l_.tick.value()));
}

}  // namespace intraday::gen
