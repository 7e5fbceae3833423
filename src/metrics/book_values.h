// Values derived from one L2 book snapshot (metrics.md, "l2"), shared by the `l2` (state at
// bucket end) and `l2tw` (time-weighted) modules: level prices, quantities and order counts,
// cumulative sums over levels 1..l, imbalances, mid, weighted mid and spreads; and the parsing of
// the modules' `metrics:` selection into a list of such values.
//
// Nulls: a value is NaN (stored as null) when its inputs are absent. Cumulative sums treat an
// absent level as 0 (the book holds nothing there). Mid, WeightedMid, SpreadAbs and SpreadBps need
// a valid two-sided top of book: Bid1 and Ask1 present and positive and Bid1 <= Ask1 (a locked
// book gives spread 0); a crossed or one-sided book gives null, never a crash.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/util/bit_block_counter.h>

#include "config/yaml_reader.h"
#include "metrics/module.h"

namespace intraday::book {

inline constexpr int kMaxLevels = 10;
inline constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

enum class Kind {
  kPrice,
  kQuantity,
  kNumOrders,
  kCumQuantity,
  kCumOrders,
  kCumNotional,
  kImbalanceCumQuantity,
  kImbalanceOrders,
  kImbalanceCumNotional,
  kMid,
  kWeightedMid,
  kSpreadAbs,
  kSpreadBps,
  kMarketState,
};

/// A family of values, as named in `metrics:` lists (key) and in column names (stem).
struct Family {
  Kind kind;
  std::string_view key;   // snake_case option value: "cum_quantity"
  std::string_view stem;  // column name part: "CumQuantity"
  bool per_side;          // {Bid|Ask}{stem}{l}
  bool per_level;         // {stem}{l}
  ValueType type;         // of the state column (l2); TWA columns are always float64
  std::string_view unit;
  std::string_view description;
};

inline constexpr std::array<Family, 14> kFamilies{{
    {Kind::kPrice, "price", "Price", true, true, ValueType::kFloat64, "price", "price of level"},
    {Kind::kQuantity, "quantity", "Quantity", true, true, ValueType::kInt64, "shares", "quantity at level"},
    {Kind::kNumOrders, "num_orders", "NumOrders", true, true, ValueType::kInt64, "orders",
     "number of orders at level"},
    {Kind::kCumQuantity, "cum_quantity", "CumQuantity", true, true, ValueType::kInt64, "shares",
     "quantity summed over levels 1..l (absent levels count 0)"},
    {Kind::kCumOrders, "cum_orders", "CumOrders", true, true, ValueType::kInt64, "orders",
     "number of orders summed over levels 1..l (absent levels count 0)"},
    {Kind::kCumNotional, "cum_notional", "CumNotional", true, true, ValueType::kFloat64, "currency",
     "price*quantity summed over levels 1..l (absent levels count 0)"},
    {Kind::kImbalanceCumQuantity, "imbalance_cum_quantity", "ImbalanceCumQuantity", false, true,
     ValueType::kFloat64, "", "(b - a)/(b + a) of the quantities over levels 1..l; null if b + a = 0"},
    {Kind::kImbalanceOrders, "imbalance_orders", "ImbalanceOrders", false, true, ValueType::kFloat64, "",
     "(b - a)/(b + a) of the order counts over levels 1..l; null if b + a = 0"},
    {Kind::kImbalanceCumNotional, "imbalance_cum_notional", "ImbalanceCumNotional", false, true,
     ValueType::kFloat64, "", "(b - a)/(b + a) of the notionals over levels 1..l; null if b + a = 0"},
    {Kind::kMid, "mid", "Mid", false, false, ValueType::kFloat64, "price",
     "(Ask1 + Bid1)/2; null for a crossed or one-sided book"},
    {Kind::kWeightedMid, "weighted_mid", "WeightedMid", false, false, ValueType::kFloat64, "price",
     "(Bid1*AskQ1 + Ask1*BidQ1)/(AskQ1 + BidQ1); null for a crossed or one-sided book"},
    {Kind::kSpreadAbs, "spread_abs", "SpreadAbs", false, false, ValueType::kFloat64, "price",
     "Ask1 - Bid1; null for a crossed or one-sided book"},
    {Kind::kSpreadBps, "spread_bps", "SpreadBps", false, false, ValueType::kFloat64, "bps",
     "20000*(Ask1 - Bid1)/(Ask1 + Bid1); null for a crossed or one-sided book"},
    {Kind::kMarketState, "market_state", "MarketState", false, false, ValueType::kString, "",
     "MarketState of the snapshot in force"},
}};

inline const Family& FamilyOf(Kind kind) { return kFamilies[static_cast<size_t>(kind)]; }

/// One value of a snapshot: a family, a side (0 bid, 1 ask; per-side families only) and a level
/// (1..10; per-level families only, else 0).
struct Value {
  Kind kind;
  int side = 0;
  int level = 0;
  bool operator==(const Value&) const = default;
};

inline std::string NameOf(const Value& v) {
  const Family& f = FamilyOf(v.kind);
  std::string name;
  if (f.per_side) name = v.side == 0 ? "Bid" : "Ask";
  name += f.stem;
  if (f.per_level) name += std::to_string(v.level);
  return name;
}

inline std::string DescriptionOf(const Value& v) {
  const Family& f = FamilyOf(v.kind);
  std::string text(f.description);
  if (f.per_side) text = std::string(v.side == 0 ? "bid " : "ask ") + text;
  if (f.per_level) {
    const std::string l = std::to_string(v.level);
    if (text.ends_with("level")) {
      text += " " + l;
    } else if (const auto pos = text.find("1..l"); pos != std::string::npos) {
      text.replace(pos, 4, "1.." + l);
    } else {
      text += " (l = " + l + ")";
    }
  }
  return text;
}

/// The deepest level a value reads (1 for the top-of-book values, 0 for MarketState).
inline int DepthOf(const Value& v) {
  const Family& f = FamilyOf(v.kind);
  if (f.per_level) return v.level;
  return v.kind == Kind::kMarketState ? 0 : 1;
}

/// The family expanded in column order: for X in Bid, Ask (per-side families), l in 1..levels.
inline void Expand(Kind kind, int levels, std::vector<Value>* out) {
  const Family& f = FamilyOf(kind);
  const int sides = f.per_side ? 2 : 1;
  for (int side = 0; side < sides; ++side) {
    if (!f.per_level) {
      out->push_back({kind, side, 0});
      continue;
    }
    for (int level = 1; level <= levels; ++level) out->push_back({kind, side, level});
  }
}

/// Parses a `metrics:` list: each item is a family key (expanded over sides and levels 1..levels,
/// in place) or one exact column name (`name + suffix`, e.g. "BidPrice3" or "BidPrice3TWA", any
/// level 1..10). Repeated values keep their first position. `allow_market_state`: whether the
/// market_state family may be selected. Returns std::nullopt after reporting errors.
inline std::optional<std::vector<Value>> ParseSelection(const YamlValue& list, int levels,
                                                        bool allow_market_state, std::string_view suffix,
                                                        ConfigDiagnostics* diag) {
  auto items = ReadList(list, diag, "[price, quantity, spread_bps]");
  if (!items) return std::nullopt;
  std::vector<std::string_view> keys;
  std::vector<std::string> all_names;
  std::vector<Value> all_values;
  for (const Family& f : kFamilies) {
    if (f.kind == Kind::kMarketState && !allow_market_state) continue;
    keys.push_back(f.key);
    std::vector<Value> expanded;
    Expand(f.kind, kMaxLevels, &expanded);
    for (const Value& v : expanded) {
      all_values.push_back(v);
      all_names.push_back(NameOf(v) + std::string(suffix));
    }
  }
  std::vector<Value> out;
  bool ok = true;
  auto add = [&out](const Value& v) {
    for (const Value& seen : out) {
      if (seen == v) return;
    }
    out.push_back(v);
  };
  for (const YamlValue& item : *items) {
    auto text = ReadString(item, diag, "a metric family or column name");
    if (!text) {
      ok = false;
      continue;
    }
    bool found = false;
    for (const Family& f : kFamilies) {
      if (f.key == *text && (allow_market_state || f.kind != Kind::kMarketState)) {
        std::vector<Value> expanded;
        Expand(f.kind, levels, &expanded);
        for (const Value& v : expanded) add(v);
        found = true;
        break;
      }
    }
    for (size_t i = 0; !found && i < all_names.size(); ++i) {
      if (all_names[i] == *text) {
        add(all_values[i]);
        found = true;
      }
    }
    if (!found) {
      std::vector<std::string_view> candidates(keys.begin(), keys.end());
      for (const std::string& name : all_names) candidates.push_back(name);
      std::string message = "unknown metric '" + *text + "'";
      if (auto close = ClosestMatch(*text, candidates)) {
        message += " (did you mean '" + std::string(*close) + "'?)";
      } else {
        message += ": expected a family key (";
        for (size_t i = 0; i < keys.size(); ++i) message += (i ? ", " : "") + std::string(keys[i]);
        message += ") or a column name such as 'BidPrice1" + std::string(suffix) + "'";
      }
      diag->Error(item.location, item.path, message);
      ok = false;
    }
  }
  if (ok && out.empty()) {
    diag->Error(list.location, list.path, "expected at least one metric");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

/// The `levels` (1..kMaxLevels; the depth that family keys expand to) and `metrics` (a selection,
/// ParseSelection; absent: `defaults(levels)`) options of a book module, as its `reader` holds them.
template <typename Defaults>
void ReadLevelsAndSelection(const MapReader& reader, bool allow_market_state, std::string_view suffix,
                            const Defaults& defaults, int* levels, std::vector<Value>* values,
                            ConfigDiagnostics* diag) {
  if (const YamlValue* given = reader.Find("levels")) {
    if (auto n = ReadInt(*given, diag, 1, kMaxLevels)) *levels = static_cast<int>(*n);
  }
  if (const YamlValue* metrics = reader.Find("metrics")) {
    if (auto selection = ParseSelection(*metrics, *levels, allow_market_state, suffix, diag))
      *values = std::move(*selection);
  } else {
    *values = defaults(*levels);
  }
}

/// The level columns of an l2 table, read once per listing-day. A column the table lacks reads as
/// all null.
class Columns {
 public:
  /// The input columns that `values` read, in the order of Names(): the families each value is
  /// computed from (a cumulative or an imbalance over 1..l reads levels 1..l, of both sides for an
  /// imbalance), and with `top_of_book` the best prices and quantities of both sides (mids and
  /// spreads of other options). A module reads and holds only these: a selection without order
  /// counts does not decode them.
  static std::vector<std::string> InputNames(const std::vector<Value>& values, bool top_of_book) {
    enum { kP, kQ, kO };
    std::array<std::array<std::array<bool, kMaxLevels + 1>, 3>, 2> needed{};  // [side][what][level]
    auto need = [&](int side, int what, int first, int last) {
      for (int l = first; l <= std::min(last, kMaxLevels); ++l) needed[side][what][l] = true;
    };
    auto both = [&](int what, int first, int last) {
      need(0, what, first, last);
      need(1, what, first, last);
    };
    if (top_of_book) {
      both(kP, 1, 1);
      both(kQ, 1, 1);
    }
    for (const Value& v : values) {
      switch (v.kind) {
        case Kind::kPrice: need(v.side, kP, v.level, v.level); break;
        case Kind::kQuantity: need(v.side, kQ, v.level, v.level); break;
        case Kind::kNumOrders: need(v.side, kO, v.level, v.level); break;
        case Kind::kCumQuantity: need(v.side, kQ, 1, v.level); break;
        case Kind::kCumOrders: need(v.side, kO, 1, v.level); break;
        case Kind::kCumNotional:
          need(v.side, kP, 1, v.level);
          need(v.side, kQ, 1, v.level);
          break;
        case Kind::kImbalanceCumQuantity: both(kQ, 1, v.level); break;
        case Kind::kImbalanceOrders: both(kO, 1, v.level); break;
        case Kind::kImbalanceCumNotional:
          both(kP, 1, v.level);
          both(kQ, 1, v.level);
          break;
        case Kind::kMid:
        case Kind::kSpreadAbs:
        case Kind::kSpreadBps: both(kP, 1, 1); break;
        case Kind::kWeightedMid:
          both(kP, 1, 1);
          both(kQ, 1, 1);
          break;
        case Kind::kMarketState: break;
      }
    }
    std::vector<std::string> names;
    for (int level = 1; level <= kMaxLevels; ++level) {
      for (int side = 0; side < 2; ++side) {
        for (int what : {kP, kQ, kO}) {
          if (!needed[side][what][level]) continue;
          static constexpr const char* kWhat[] = {"Price", "Quantity", "NumOrders"};
          names.push_back(std::string(side == 0 ? "Bid" : "Ask") + kWhat[what] + std::to_string(level));
        }
      }
    }
    return names;
  }

  static Result<Columns> Load(const ListingTable& table, int depth) {
    Columns c;
    c.depth_ = depth;
    for (int level = 1; level <= depth; ++level) {
      for (int side = 0; side < 2; ++side) {
        const std::string prefix = side == 0 ? "Bid" : "Ask";
        const std::string l = std::to_string(level);
        const auto i = static_cast<size_t>(level - 1);
        if (table.has_column(prefix + "Price" + l)) {
          INTRADAY_ASSIGN_OR_RAISE(c.price_[side][i], table.Float64(prefix + "Price" + l));
        }
        if (table.has_column(prefix + "Quantity" + l)) {
          INTRADAY_ASSIGN_OR_RAISE(c.quantity_[side][i], table.Int64(prefix + "Quantity" + l));
        }
        if (table.has_column(prefix + "NumOrders" + l)) {
          INTRADAY_ASSIGN_OR_RAISE(c.orders_[side][i], table.Int32(prefix + "NumOrders" + l));
        }
      }
    }
    return c;
  }

  double Price(int64_t row, int side, int level) const {
    const auto* a = price_[side][static_cast<size_t>(level - 1)];
    return a == nullptr || a->IsNull(row) ? kNull : a->Value(row);
  }
  double Quantity(int64_t row, int side, int level) const {
    const auto* a = quantity_[side][static_cast<size_t>(level - 1)];
    return a == nullptr || a->IsNull(row) ? kNull : static_cast<double>(a->Value(row));
  }
  double Orders(int64_t row, int side, int level) const {
    const auto* a = orders_[side][static_cast<size_t>(level - 1)];
    return a == nullptr || a->IsNull(row) ? kNull : static_cast<double>(a->Value(row));
  }

  /// Bid1 and Ask1 of a valid two-sided top of book (present, positive, not crossed).
  bool Top(int64_t row, double* bid, double* ask) const {
    *bid = Price(row, 0, 1);
    *ask = Price(row, 1, 1);
    return !std::isnan(*bid) && !std::isnan(*ask) && *bid > 0 && *ask > 0 && *bid <= *ask;
  }
  double Mid(int64_t row) const {
    double bid, ask;
    return Top(row, &bid, &ask) ? (bid + ask) / 2 : kNull;
  }
  double WeightedMid(int64_t row) const {
    double bid, ask;
    if (!Top(row, &bid, &ask)) return kNull;
    const double bq = Quantity(row, 0, 1);
    const double aq = Quantity(row, 1, 1);
    if (std::isnan(bq) || std::isnan(aq) || bq + aq <= 0) return kNull;
    return (bid * aq + ask * bq) / (aq + bq);
  }

  /// Every row's value of `v` into out[0..size()): Get for all rows, a column at a time, with
  /// the same arithmetic in the same order (so the same bits). `scratch` holds intermediate
  /// columns between calls.
  void Fill(const Value& v, int64_t n, double* out, std::vector<double>* scratch) const {
    switch (v.kind) {
      case Kind::kPrice: return FillLevel(price_[v.side][static_cast<size_t>(v.level - 1)], n, out);
      case Kind::kQuantity: return FillLevel(quantity_[v.side][static_cast<size_t>(v.level - 1)], n, out);
      case Kind::kNumOrders: return FillLevel(orders_[v.side][static_cast<size_t>(v.level - 1)], n, out);
      case Kind::kCumQuantity:
      case Kind::kCumOrders:
      case Kind::kCumNotional: return FillCum(v.kind, v.side, v.level, n, out);
      case Kind::kImbalanceCumQuantity:
      case Kind::kImbalanceOrders:
      case Kind::kImbalanceCumNotional: {
        scratch->resize(static_cast<size_t>(n));
        FillCum(CumulativeOf(v.kind), 0, v.level, n, scratch->data());
        FillCum(CumulativeOf(v.kind), 1, v.level, n, out);
        for (int64_t i = 0; i < n; ++i) out[i] = Imbalance((*scratch)[static_cast<size_t>(i)], out[i]);
        return;
      }
      default:
        for (int64_t i = 0; i < n; ++i) out[i] = Get(i, v);
    }
  }

  /// Every row's value of `v` as a column of the input itself, where Fill would only copy it: a
  /// price level without nulls. Else nullptr (Fill it).
  const double* Column(const Value& v) const {
    if (v.kind != Kind::kPrice) return nullptr;
    const auto* a = price_[v.side][static_cast<size_t>(v.level - 1)];
    return a != nullptr && a->null_count() == 0 ? a->raw_values() : nullptr;
  }

  /// Any non-string value of a snapshot; NaN for null.
  double Get(int64_t row, const Value& v) const {
    switch (v.kind) {
      case Kind::kPrice: return Price(row, v.side, v.level);
      case Kind::kQuantity: return Quantity(row, v.side, v.level);
      case Kind::kNumOrders: return Orders(row, v.side, v.level);
      case Kind::kCumQuantity:
      case Kind::kCumOrders:
      case Kind::kCumNotional: return Cum(row, v.kind, v.side, v.level);
      case Kind::kImbalanceCumQuantity:
      case Kind::kImbalanceOrders:
      case Kind::kImbalanceCumNotional:
        return Imbalance(Cum(row, CumulativeOf(v.kind), 0, v.level),
                         Cum(row, CumulativeOf(v.kind), 1, v.level));
      case Kind::kMid: return Mid(row);
      case Kind::kWeightedMid: return WeightedMid(row);
      case Kind::kSpreadAbs: {
        double bid, ask;
        return Top(row, &bid, &ask) ? ask - bid : kNull;
      }
      case Kind::kSpreadBps: {
        double bid, ask;
        return Top(row, &bid, &ask) ? 20000 * (ask - bid) / (ask + bid) : kNull;
      }
      case Kind::kMarketState: return kNull;
    }
    return kNull;
  }

 private:
  /// The cumulative family an imbalance family compares between the sides.
  static Kind CumulativeOf(Kind imbalance) {
    return imbalance == Kind::kImbalanceCumQuantity ? Kind::kCumQuantity
           : imbalance == Kind::kImbalanceOrders    ? Kind::kCumOrders
                                                    : Kind::kCumNotional;
  }
  static double Imbalance(double bid, double ask) {
    return bid + ask > 0 ? (bid - ask) / (bid + ask) : kNull;
  }

  /// One level's addend of a cumulative family (NaN: absent, counted as 0).
  double LevelTerm(int64_t row, Kind cumulative, int side, int level) const {
    if (cumulative == Kind::kCumQuantity) return Quantity(row, side, level);
    if (cumulative == Kind::kCumOrders) return Orders(row, side, level);
    return Price(row, side, level) * Quantity(row, side, level);
  }

  template <typename ArrowArray>
  static void FillLevel(const ArrowArray* a, int64_t n, double* out) {
    if (a == nullptr) {
      std::fill(out, out + n, kNull);
      return;
    }
    const auto* raw = a->raw_values();
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<double>(raw[i]);
    if (a->null_count() == 0) return;
    // 64 rows at a time: deep levels are null in long stretches, shallow ones rarely.
    arrow::internal::BitBlockCounter blocks(a->null_bitmap_data(), a->offset(), n);
    for (int64_t i = 0; i < n;) {
      const arrow::internal::BitBlockCount block = blocks.NextWord();
      if (block.NoneSet()) {
        std::fill(out + i, out + i + block.length, kNull);
      } else if (!block.AllSet()) {
        for (int64_t k = i; k < i + block.length; ++k) {
          if (a->IsNull(k)) out[k] = kNull;
        }
      }
      i += block.length;
    }
  }

  // Cum for every row: the same additions in the same level order as Cum.
  void FillCum(Kind kind, int side, int level, int64_t n, double* out) const {
    std::fill(out, out + n, 0.0);
    for (int l = 1; l <= std::min(level, depth_); ++l) {
      for (int64_t i = 0; i < n; ++i) {
        const double x = LevelTerm(i, kind, side, l);
        if (!std::isnan(x)) out[i] += x;
      }
    }
  }

  // Cumulative values over levels 1..level. All levels' sums of a row are computed together and
  // kept until another row is asked for: time-weighted and imbalance sets ask for every level of
  // the same row in turn. The additions run in level order, so the sums are exactly those of a
  // level-by-level loop.
  double Cum(int64_t row, Kind kind, int side, int level) const {
    const size_t k = kind == Kind::kCumQuantity ? 0 : (kind == Kind::kCumOrders ? 1 : 2);
    CumCache& cache = cum_cache_[k][static_cast<size_t>(side)];
    if (cache.row != row) {
      double sum = 0;
      for (int l = 1; l <= depth_; ++l) {
        const double x = LevelTerm(row, kind, side, l);
        if (!std::isnan(x)) sum += x;
        cache.prefix[static_cast<size_t>(l)] = sum;
      }
      cache.row = row;
    }
    return level <= depth_ ? cache.prefix[static_cast<size_t>(level)]
                           : cache.prefix[static_cast<size_t>(depth_)];
  }

  struct CumCache {
    int64_t row = -1;
    std::array<double, kMaxLevels + 1> prefix{};
  };
  int depth_ = 0;
  mutable std::array<std::array<CumCache, 2>, 3> cum_cache_{};
  std::array<std::array<const arrow::DoubleArray*, kMaxLevels>, 2> price_{};
  std::array<std::array<const arrow::Int64Array*, kMaxLevels>, 2> quantity_{};
  std::array<std::array<const arrow::Int32Array*, kMaxLevels>, 2> orders_{};
};

/// The MarketState codes (data-model.md), for `market_states` options.
inline constexpr std::array<std::string_view, 14> kMarketStates{"PRE_OPEN",
                                                                "OPENING_AUCTION",
                                                                "CONTINUOUS_TRADING",
                                                                "CLOSING_AUCTION",
                                                                "POST_TRADE",
                                                                "CLOSED",
                                                                "HALTED",
                                                                "INTRADAY_AUCTION",
                                                                "UNSCHEDULED_AUCTION",
                                                                "AUCTION_ON_DEMAND",
                                                                "CONDITIONAL",
                                                                "CONTINUOUS_TRADING_PRIMARY_CLOSED",
                                                                "NOT_APPLICABLE",
                                                                "UNKNOWN"};

}  // namespace intraday::book
