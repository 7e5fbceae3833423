#include "metrics/trade.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "metrics/trade_filters.h"

namespace intraday {
namespace {

using namespace trade_internal;

enum class Measure {
  kVolume,
  kCount,
  kNotionalEUR,
  kNotionalUSD,
  kNotional,
  kVWAP,
  kAvgPrice,
  kMedianPrice,
  kRetailCount,
  kBlockCount,
  kOpen,
  kHigh,
  kLow,
  kClose,
  kPricePlacement,
  kVolatility,
  kMarketState,
  kDiscrepancy,
  kFlagVolume,
  kFlagCount,
  kFlagAvgNotional,
  kEffectiveSpread,
  kRealizedSpread,
  kPriceImpact,
};
enum class Agg { kFirst, kLast, kMin, kMax, kMean, kMedian, kStd, kSum };
enum class Flag { kNegotiated, kOddLot, kBlock, kCross, kAlgorithmic };

constexpr int kTotal = -1;  // side: -1 total, else the AggressorSide code (0 unknown, 1 buy, 2 sell)

struct MeasureInfo {
  std::string_view name;
  Measure measure;
  ValueType type;
  std::string_view unit;
  std::string_view description;
};
constexpr std::array<MeasureInfo, 16> kMeasures{{
    {"Volume", Measure::kVolume, ValueType::kFloat64, "shares", "sum of Size"},
    {"Count", Measure::kCount, ValueType::kInt64, "trades", "number of trades"},
    {"NotionalEUR", Measure::kNotionalEUR, ValueType::kFloat64, "EUR", "sum of TradeNotionalEUR"},
    {"NotionalUSD", Measure::kNotionalUSD, ValueType::kFloat64, "USD", "sum of TradeNotionalUSD"},
    {"Notional", Measure::kNotional, ValueType::kFloat64, "local currency", "sum of TradeNotional"},
    {"VWAP", Measure::kVWAP, ValueType::kFloat64, "price", "sum(p*Size)/sum(Size), p = LocalPrice"},
    {"AvgPrice", Measure::kAvgPrice, ValueType::kFloat64, "price", "arithmetic mean of p"},
    {"MedianPrice", Measure::kMedianPrice, ValueType::kFloat64, "price", "median of p"},
    {"RetailCount", Measure::kRetailCount, ValueType::kInt64, "trades",
     "trades with BMLLParticipantType RETAIL"},
    {"BlockCount", Measure::kBlockCount, ValueType::kInt64, "trades", "trades with IsBlock TRUE"},
    {"Open", Measure::kOpen, ValueType::kFloat64, "price", "first p (event time, then input order)"},
    {"High", Measure::kHigh, ValueType::kFloat64, "price", "highest p"},
    {"Low", Measure::kLow, ValueType::kFloat64, "price", "lowest p"},
    {"Close", Measure::kClose, ValueType::kFloat64, "price", "last p (event time, then input order)"},
    {"VolumeWeightedPricePlacement", Measure::kPricePlacement, ValueType::kFloat64, "",
     "sum((2*clamp(PricePoint,0,1)-1)*Size)/sum(Size), in [-1, 1]"},
    {"Volatility", Measure::kVolatility, ValueType::kFloat64, "",
     "annualised std (ddof 1) of log returns between consecutive trades: std*sqrt(n*Y/N)"},
}};

struct SideInfo {
  std::string_view name;
  int code;
  std::string_view label;
};
constexpr std::array<SideInfo, 4> kSides{{{"Total", kTotal, "all"},
                                          {"Buy", 1, "buyer-initiated (AggressorSide 1)"},
                                          {"Sell", 2, "seller-initiated (AggressorSide 2)"},
                                          {"Unknown", 0, "unknown-side (AggressorSide 0)"}}};

constexpr std::array<std::pair<std::string_view, Agg>, 8> kAggs{{{"First", Agg::kFirst},
                                                                 {"Last", Agg::kLast},
                                                                 {"Min", Agg::kMin},
                                                                 {"Max", Agg::kMax},
                                                                 {"Mean", Agg::kMean},
                                                                 {"Median", Agg::kMedian},
                                                                 {"Std", Agg::kStd},
                                                                 {"Sum", Agg::kSum}}};

struct FlagInfo {
  std::string_view name;
  Flag flag;
  std::string_view column;
  std::string_view rule;
};
constexpr std::array<FlagInfo, 5> kFlags{{
    {"NegotiatedTrade", Flag::kNegotiated, "NegotiatedTrade",
     "NegotiatedTrade set (not '-', empty, N, FALSE)"},
    {"OddLotTrade", Flag::kOddLot, "LotType", "LotType ODD"},
    {"BlockTrade", Flag::kBlock, "IsBlock", "IsBlock TRUE"},
    {"CrossTrade", Flag::kCross, "CrossingTrade", "CrossingTrade set (not '-', empty, N, FALSE)"},
    {"AlgorithmicTrade", Flag::kAlgorithmic, "AlgorithmicTrade", "AlgorithmicTrade H or Y"},
}};

constexpr std::array<int, 15> kHorizons{1,   2,    5,    10,    25,    50,    100,   200,
                                        500, 1000, 5000, 15000, 30000, 60000, 300000};

constexpr std::array<std::string_view, 12> kDefaultMetrics{"TradeTotalVolume",
                                                           "TradeTotalCount",
                                                           "TradeTotalNotionalEUR",
                                                           "TradeTotalVWAP",
                                                           "Open",
                                                           "High",
                                                           "Low",
                                                           "Close",
                                                           "TradeBuyVolume",
                                                           "TradeSellVolume",
                                                           "VolumeWeightedPricePlacement",
                                                           "MarketState"};

struct Metric {
  Measure measure = Measure::kCount;
  int side = kTotal;
  Agg agg = Agg::kMean;
  Flag flag = Flag::kBlock;
  std::string ref;      // discrepancy / TCA reference column ("" unused)
  std::string ref_ask;  // MidAtPrimary: the second column averaged with `ref`
  std::string post;     // TCA: PostTradeMid{H}ms
  OutputColumn column;
};

bool IsFlow(const Metric& m) {
  switch (m.measure) {
    case Measure::kVolume:
    case Measure::kCount:
    case Measure::kNotionalEUR:
    case Measure::kNotionalUSD:
    case Measure::kNotional:
    case Measure::kRetailCount:
    case Measure::kBlockCount:
    case Measure::kFlagVolume:
    case Measure::kFlagCount: return true;
    default: return false;
  }
}

bool Upper(std::string_view v, std::string_view want) {
  if (v.size() != want.size()) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(v[i])) != want[i]) return false;
  }
  return true;
}

/// A MiFID-style flag is set unless null, empty, '-', N, FALSE or 0.
bool FlagSet(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return !(v.empty() || v == "-" || Upper(v, "N") || Upper(v, "FALSE") || v == "0");
}

bool FlagOf(Flag flag, const Str& column, int64_t row) {
  if (column.Null(row)) return false;
  const std::string_view v = column(row);
  switch (flag) {
    case Flag::kOddLot: return Upper(v, "ODD") || Upper(v, "ODD_LOT");
    case Flag::kBlock: return Upper(v, "TRUE") || Upper(v, "Y");
    case Flag::kAlgorithmic: return Upper(v, "H") || Upper(v, "Y");
    case Flag::kNegotiated:
    case Flag::kCross: return FlagSet(v);
  }
  return false;
}

/// Discrepancy references: name in the column name -> trade columns.
struct RefInfo {
  std::string name;
  std::string column;
  std::string column2;  // averaged with `column` when set
};
std::vector<RefInfo> DiscrepancyRefs() {
  std::vector<RefInfo> refs{{"PreTradeMid", "PreTradeMid1ms", ""},
                            {"PostTradeMid", "PostTradeMid", ""},
                            {"MidAtPrimary", "BestBidPriceAtPrimary", "BestAskPriceAtPrimary"}};
  for (std::string_view q : {"BestBid", "BestAsk"}) {
    for (std::string_view where : {"", "AtVenue", "AtPrimary"}) {
      refs.push_back(
          {std::string(q) + std::string(where), std::string(q) + "Price" + std::string(where), ""});
    }
  }
  for (int h : kHorizons) {
    for (std::string_view when : {"PreTradeMid", "PostTradeMid"}) {
      for (std::string_view where : {"", "AtPrimary"}) {
        const std::string name = std::string(when) + std::to_string(h) + "ms" + std::string(where);
        refs.push_back({name, name, ""});
      }
    }
  }
  // Longest first, so that "BestBidAtVenue" wins over "BestBid".
  std::stable_sort(refs.begin(), refs.end(),
                   [](const RefInfo& a, const RefInfo& b) { return a.name.size() > b.name.size(); });
  return refs;
}

std::optional<Metric> ParseMetric(std::string_view name, const std::string& tca_reference) {
  Metric m;
  m.column.name = std::string(name);
  auto measure_of = [&](std::string_view rest, int side, std::string_view side_label) -> bool {
    for (const auto& info : kMeasures) {
      if (rest != info.name) continue;
      m.measure = info.measure;
      m.side = side;
      m.column.type = info.type;
      m.column.unit = std::string(info.unit);
      m.column.description = std::string(info.description) + " over " + std::string(side_label) +
                             " filtered trades of the bucket";
      return true;
    }
    return false;
  };
  if (name == "MarketState") {
    m.measure = Measure::kMarketState;
    m.column.type = ValueType::kString;
    m.column.description =
        "MarketState of the last trade print of the bucket (any trade; carried across empty buckets)";
    return m;
  }
  for (std::string_view bare :
       {"Open", "High", "Low", "Close", "VolumeWeightedPricePlacement", "Volatility"}) {
    if (name == bare) return measure_of(name, kTotal, "all") ? std::optional(m) : std::nullopt;
  }
  if (name.starts_with("Trade")) {
    const std::string_view rest = name.substr(5);
    for (const auto& side : kSides) {
      if (rest.starts_with(side.name) && measure_of(rest.substr(side.name.size()), side.code, side.label))
        return m;
    }
    return std::nullopt;
  }
  if (name.starts_with("DiscrepancyTo")) {
    std::string_view rest = name.substr(13);
    for (const auto& ref : DiscrepancyRefs()) {
      if (!rest.starts_with(ref.name)) continue;
      std::string_view tail = rest.substr(ref.name.size());
      int side = kTotal;
      std::string_view side_label = "all";
      for (const auto& s : kSides) {
        if (tail.starts_with(s.name)) {
          side = s.code;
          side_label = s.label;
          tail.remove_prefix(s.name.size());
          break;
        }
      }
      Agg agg = Agg::kMean;
      std::string_view agg_name = "Mean";
      if (!tail.empty()) {
        bool found = false;
        for (const auto& [n, a] : kAggs) {
          if (tail == n) {
            agg = a;
            agg_name = n;
            found = true;
          }
        }
        if (!found) continue;
      }
      m.measure = Measure::kDiscrepancy;
      m.side = side;
      m.agg = agg;
      m.ref = ref.column;
      m.ref_ask = ref.column2;
      m.column.unit = "bps";
      m.column.description =
          std::string(agg_name) + " of 10000*(p-R)/R, R = " +
          (ref.column2.empty() ? ref.column : "(" + ref.column + "+" + ref.column2 + ")/2") + ", over " +
          std::string(side_label) + " filtered trades";
      return m;
    }
    return std::nullopt;
  }
  for (const auto& f : kFlags) {
    if (!name.starts_with(f.name)) continue;
    const std::string_view rest = name.substr(f.name.size());
    m.flag = f.flag;
    m.ref = std::string(f.column);
    if (rest == "Volume") {
      m.measure = Measure::kFlagVolume;
      m.column.unit = "shares";
      m.column.description = "sum of Size over filtered trades with " + std::string(f.rule);
    } else if (rest == "Count") {
      m.measure = Measure::kFlagCount;
      m.column.type = ValueType::kInt64;
      m.column.unit = "trades";
      m.column.description = "filtered trades with " + std::string(f.rule);
    } else if (rest == "AvgNotional") {
      m.measure = Measure::kFlagAvgNotional;
      m.column.unit = "EUR";
      m.column.description = "mean TradeNotionalEUR of filtered trades with " + std::string(f.rule);
    } else {
      return std::nullopt;
    }
    return m;
  }
  for (auto [prefix, measure] : {std::pair{std::string_view("EffectiveSpread"), Measure::kEffectiveSpread},
                                 std::pair{std::string_view("RealizedSpread"), Measure::kRealizedSpread},
                                 std::pair{std::string_view("PriceImpact"), Measure::kPriceImpact}}) {
    if (!name.starts_with(prefix) || !name.ends_with("ms")) continue;
    const std::string digits(name.substr(prefix.size(), name.size() - prefix.size() - 2));
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit) || digits.size() > 6)
      return std::nullopt;
    const int h = std::stoi(digits);
    if (std::to_string(h) != digits || std::find(kHorizons.begin(), kHorizons.end(), h) == kHorizons.end()) {
      return std::nullopt;
    }
    m.measure = measure;
    m.ref = tca_reference;
    m.post = "PostTradeMid" + digits + "ms";
    m.column.unit = "price";
    const std::string sample = ", over filtered buy/sell trades with p, " + tca_reference + " and " + m.post;
    if (measure == Measure::kEffectiveSpread)
      m.column.description = "mean 2|p - " + tca_reference + "|" + sample;
    if (measure == Measure::kRealizedSpread) m.column.description = "mean 2s(p - " + m.post + ")" + sample;
    if (measure == Measure::kPriceImpact)
      m.column.description = "mean 2s(" + m.post + " - " + tca_reference + ")" + sample;
    return m;
  }
  return std::nullopt;
}

struct Options {
  TradeFilterOptions filters;
  std::vector<Metric> metrics;
  double year_seconds = 252.0 * 86400.0;
};

/// Per listing-day bound columns of one metric.
struct BoundMetric {
  F64 ref, ref_ask, post;
  Str flag;
};

class TradeModule final : public Module {
 public:
  TradeModule(Options options, const PassShape& pass) : options_(std::move(options)) {
    bucket_seconds_ = static_cast<double>(pass.grid.length()) / 1e9;
    std::vector<std::string> cols;
    auto add = [&](std::string_view c) {
      if (c.empty()) return;
      if (std::find(cols.begin(), cols.end(), c) == cols.end()) cols.emplace_back(c);
    };
    options_.filters.AddColumns(&cols);
    for (const auto& m : options_.metrics) {
      outputs_.push_back(m.column);
      if (m.side != kTotal) add("AggressorSide");
      switch (m.measure) {
        case Measure::kVolume: add("Size"); break;
        case Measure::kNotionalEUR: add("TradeNotionalEUR"); break;
        case Measure::kNotionalUSD: add("TradeNotionalUSD"); break;
        case Measure::kNotional: add("TradeNotional"); break;
        case Measure::kVWAP:
          add(kLocalPriceColumn);
          add("Size");
          break;
        case Measure::kAvgPrice:
        case Measure::kMedianPrice:
        case Measure::kOpen:
        case Measure::kHigh:
        case Measure::kLow:
        case Measure::kClose:
        case Measure::kVolatility: add(kLocalPriceColumn); break;
        case Measure::kRetailCount: add("BMLLParticipantType"); break;
        case Measure::kBlockCount: add("IsBlock"); break;
        case Measure::kPricePlacement:
          add("PricePoint");
          add("Size");
          break;
        case Measure::kMarketState: add("MarketState"); break;
        case Measure::kDiscrepancy:
          add(kLocalPriceColumn);
          add(m.ref);
          add(m.ref_ask);
          break;
        case Measure::kFlagVolume:
          add(m.ref);
          add("Size");
          break;
        case Measure::kFlagCount: add(m.ref); break;
        case Measure::kFlagAvgNotional:
          add(m.ref);
          add("TradeNotionalEUR");
          break;
        case Measure::kEffectiveSpread:
        case Measure::kRealizedSpread:
        case Measure::kPriceImpact:
          add(kLocalPriceColumn);
          add("AggressorSide");
          add(m.ref);
          add(m.post);
          break;
        case Measure::kCount: break;
      }
    }
    inputs_.push_back({Table::kTrades, std::move(cols)});
    for (const Metric& m : options_.metrics)
      outputs_state_ = outputs_state_ || m.measure == Measure::kMarketState;
  }

  std::string_view name() const override { return "trade"; }
  const std::vector<InputTable>& inputs() const override { return inputs_; }
  const std::vector<OutputColumn>& outputs() const override { return outputs_; }

  /// Every value but MarketState is over the bucket's own trades; MarketState carries the last
  /// state seen, so the last trade with a MarketState is carried into the next slice.
  bool streams_over_time() const override { return true; }
  void CarriedRows(size_t /*input*/, const ListingTable& events, std::vector<int64_t>* rows) const override {
    if (!outputs_state_ || !events.has_column("MarketState")) return;
    auto states = events.String("MarketState");
    if (!states.ok()) return;
    for (int64_t r = events.size() - 1; r >= 0; --r) {
      if ((*states)->IsValid(r)) {
        rows->push_back(r);
        return;
      }
    }
  }

  Status Compute(const ListingDay& listing, OutputBlock& out) const override {
    const ListingTable& t = *listing.tables[0];
    for (size_t c = 0; c < options_.metrics.size(); ++c) {
      const Metric& m = options_.metrics[c];
      if (!IsFlow(m)) continue;
      if (m.column.type == ValueType::kInt64) {
        out.FillInt64(c, 0);
      } else {
        out.FillFloat64(c, 0.0);
      }
    }
    Columns cols;
    INTRADAY_ASSIGN_OR_RAISE(cols.price, TradePrices(t));
    INTRADAY_ASSIGN_OR_RAISE(cols.size, GetF64(t, "Size"));
    INTRADAY_ASSIGN_OR_RAISE(cols.eur, GetF64(t, "TradeNotionalEUR"));
    INTRADAY_ASSIGN_OR_RAISE(cols.usd, GetF64(t, "TradeNotionalUSD"));
    INTRADAY_ASSIGN_OR_RAISE(cols.local, GetF64(t, "TradeNotional"));
    INTRADAY_ASSIGN_OR_RAISE(cols.price_point, GetF64(t, "PricePoint"));
    INTRADAY_ASSIGN_OR_RAISE(cols.aggressor, GetI64(t, "AggressorSide"));
    INTRADAY_ASSIGN_OR_RAISE(cols.participant, GetStr(t, "BMLLParticipantType"));
    INTRADAY_ASSIGN_OR_RAISE(cols.is_block, GetStr(t, "IsBlock"));
    INTRADAY_ASSIGN_OR_RAISE(cols.state, GetStr(t, "MarketState"));
    std::vector<BoundMetric> bound(options_.metrics.size());
    for (size_t c = 0; c < options_.metrics.size(); ++c) {
      const Metric& m = options_.metrics[c];
      switch (m.measure) {
        case Measure::kFlagVolume:
        case Measure::kFlagCount:
        case Measure::kFlagAvgNotional: {
          INTRADAY_ASSIGN_OR_RAISE(bound[c].flag, GetStr(t, m.ref));
          break;
        }
        case Measure::kDiscrepancy:
        case Measure::kEffectiveSpread:
        case Measure::kRealizedSpread:
        case Measure::kPriceImpact: {
          INTRADAY_ASSIGN_OR_RAISE(bound[c].ref, GetF64(t, m.ref));
          if (!m.ref_ask.empty()) {
            INTRADAY_ASSIGN_OR_RAISE(bound[c].ref_ask, GetF64(t, m.ref_ask));
          }
          if (!m.post.empty()) {
            INTRADAY_ASSIGN_OR_RAISE(bound[c].post, GetF64(t, m.post));
          }
          break;
        }
        default: break;
      }
    }
    INTRADAY_ASSIGN_OR_RAISE(BoundTradeFilter filter, BoundTradeFilter::Bind(options_.filters, t));

    const int64_t n = t.size();
    std::vector<int64_t> rows;  // filtered trades of the current bucket
    std::vector<double> scratch;
    std::vector<size_t> state_rows;  // buckets with a MarketState set
    int64_t begin = 0;
    while (begin < n) {
      const size_t bucket = listing.RowOf(t.times()[begin]);
      int64_t end = begin;
      rows.clear();
      std::string_view last_state;
      bool has_state = false;
      while (end < n && (end == begin || listing.RowOf(t.times()[end]) == bucket)) {
        if (filter.Pass(end)) rows.push_back(end);
        if (!cols.state.Null(end)) {
          last_state = cols.state(end);
          has_state = true;
        }
        ++end;
      }
      for (size_t c = 0; c < options_.metrics.size(); ++c) {
        const Metric& m = options_.metrics[c];
        if (m.measure == Measure::kMarketState) {
          if (has_state) out.SetString(c, bucket, std::string(last_state));
          continue;
        }
        Bucket(m, bound[c], cols, rows, &scratch, c, bucket, out);
      }
      begin = end;
    }
    // MarketState is a state: empty buckets carry the last state seen earlier in the listing-day.
    for (size_t c = 0; c < options_.metrics.size(); ++c) {
      if (options_.metrics[c].measure != Measure::kMarketState) continue;
      const auto& column = out.column(c);
      std::string carry;
      bool have = false;
      for (size_t r = 0; r < out.rows(); ++r) {
        if (column.valid[r]) {
          carry = column.str[r];
          have = true;
        } else if (have) {
          out.SetString(c, r, carry);
        }
      }
    }
    return Status::OK();
  }

 private:
  struct Columns {
    std::vector<double> price;
    F64 size, eur, usd, local, price_point;
    I64 aggressor;
    Str participant, is_block, state;
    double p(int64_t r) const { return price[static_cast<size_t>(r)]; }
  };

  static double Median(std::vector<double>* v) {
    if (v->empty()) return kNaN;
    const size_t mid = v->size() / 2;
    std::nth_element(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(mid), v->end());
    const double hi = (*v)[mid];
    if (v->size() % 2 == 1) return hi;
    const double lo = *std::max_element(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(mid));
    return (lo + hi) / 2.0;
  }
  static double StdDdof1(const std::vector<double>& v) {
    if (v.size() < 2) return kNaN;
    double mean = 0.0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    double ss = 0.0;
    for (double x : v) ss += (x - mean) * (x - mean);
    return std::sqrt(ss / static_cast<double>(v.size() - 1));
  }

  void Bucket(const Metric& m, const BoundMetric& b, const Columns& cols,
              const std::vector<int64_t>& all_rows, std::vector<double>* scratch, size_t c, size_t bucket,
              OutputBlock& out) const {
    auto in_side = [&](int64_t r) { return m.side == kTotal || SideOf(cols.aggressor, r) == m.side; };
    auto sum_of = [&](const F64& col) {
      double s = 0.0;
      for (int64_t r : all_rows) {
        if (!in_side(r)) continue;
        const double v = col(r);
        if (!std::isnan(v)) s += v;
      }
      return s;
    };
    auto count_if = [&](auto pred) {
      int64_t k = 0;
      for (int64_t r : all_rows) k += in_side(r) && pred(r) ? 1 : 0;
      return k;
    };
    switch (m.measure) {
      case Measure::kVolume: out.SetFloat64(c, bucket, sum_of(cols.size)); return;
      case Measure::kNotionalEUR: out.SetFloat64(c, bucket, sum_of(cols.eur)); return;
      case Measure::kNotionalUSD: out.SetFloat64(c, bucket, sum_of(cols.usd)); return;
      case Measure::kNotional: out.SetFloat64(c, bucket, sum_of(cols.local)); return;
      case Measure::kCount: out.SetInt64(c, bucket, count_if([](int64_t) { return true; })); return;
      case Measure::kRetailCount:
        out.SetInt64(c, bucket, count_if([&](int64_t r) { return cols.participant(r) == "RETAIL"; }));
        return;
      case Measure::kBlockCount:
        out.SetInt64(c, bucket, count_if([&](int64_t r) { return FlagOf(Flag::kBlock, cols.is_block, r); }));
        return;
      case Measure::kFlagCount:
        out.SetInt64(c, bucket, count_if([&](int64_t r) { return FlagOf(m.flag, b.flag, r); }));
        return;
      case Measure::kFlagVolume:
      case Measure::kFlagAvgNotional: {
        const F64& col = m.measure == Measure::kFlagVolume ? cols.size : cols.eur;
        double s = 0.0;
        int64_t k = 0;
        for (int64_t r : all_rows) {
          if (!in_side(r) || !FlagOf(m.flag, b.flag, r)) continue;
          const double v = col(r);
          if (std::isnan(v)) continue;
          s += v;
          ++k;
        }
        if (m.measure == Measure::kFlagVolume) {
          out.SetFloat64(c, bucket, s);
        } else if (k > 0) {
          out.SetFloat64(c, bucket, s / static_cast<double>(k));
        }
        return;
      }
      case Measure::kVWAP:
      case Measure::kPricePlacement: {
        double num = 0.0, den = 0.0;
        for (int64_t r : all_rows) {
          if (!in_side(r)) continue;
          const double size = cols.size(r);
          double x = m.measure == Measure::kVWAP ? cols.p(r) : cols.price_point(r);
          if (std::isnan(size) || std::isnan(x)) continue;
          if (m.measure == Measure::kPricePlacement) x = 2.0 * std::clamp(x, 0.0, 1.0) - 1.0;
          num += x * size;
          den += size;
        }
        if (den != 0.0) out.SetFloat64(c, bucket, num / den);
        return;
      }
      case Measure::kAvgPrice:
      case Measure::kMedianPrice:
      case Measure::kOpen:
      case Measure::kHigh:
      case Measure::kLow:
      case Measure::kClose:
      case Measure::kVolatility: {
        scratch->clear();
        for (int64_t r : all_rows) {
          if (in_side(r) && !std::isnan(cols.p(r))) scratch->push_back(cols.p(r));
        }
        if (scratch->empty()) return;
        double v = kNaN;
        switch (m.measure) {
          case Measure::kOpen: v = scratch->front(); break;
          case Measure::kClose: v = scratch->back(); break;
          case Measure::kHigh: v = *std::max_element(scratch->begin(), scratch->end()); break;
          case Measure::kLow: v = *std::min_element(scratch->begin(), scratch->end()); break;
          case Measure::kAvgPrice: {
            double s = 0.0;
            for (double x : *scratch) s += x;
            v = s / static_cast<double>(scratch->size());
            break;
          }
          case Measure::kMedianPrice: v = Median(scratch); break;
          default: {  // volatility: log returns between consecutive positive prices
            std::vector<double> returns;
            double prev = kNaN;
            for (double x : *scratch) {
              if (!(x > 0.0)) continue;
              if (!std::isnan(prev)) returns.push_back(std::log(x / prev));
              prev = x;
            }
            const double sd = StdDdof1(returns);
            if (!std::isnan(sd)) {
              v = sd *
                  std::sqrt(static_cast<double>(returns.size()) * options_.year_seconds / bucket_seconds_);
            }
          }
        }
        out.SetFloat64(c, bucket, v);
        return;
      }
      case Measure::kDiscrepancy: {
        scratch->clear();
        for (int64_t r : all_rows) {
          if (!in_side(r)) continue;
          double ref = b.ref(r);
          if (!m.ref_ask.empty()) ref = (ref + b.ref_ask(r)) / 2.0;
          const double p = cols.p(r);
          if (std::isnan(p) || std::isnan(ref) || ref == 0.0) continue;
          scratch->push_back(10000.0 * (p - ref) / ref);
        }
        if (scratch->empty()) return;
        double v = kNaN;
        switch (m.agg) {
          case Agg::kFirst: v = scratch->front(); break;
          case Agg::kLast: v = scratch->back(); break;
          case Agg::kMin: v = *std::min_element(scratch->begin(), scratch->end()); break;
          case Agg::kMax: v = *std::max_element(scratch->begin(), scratch->end()); break;
          case Agg::kSum:
          case Agg::kMean: {
            double s = 0.0;
            for (double x : *scratch) s += x;
            v = m.agg == Agg::kSum ? s : s / static_cast<double>(scratch->size());
            break;
          }
          case Agg::kMedian: v = Median(scratch); break;
          case Agg::kStd: v = StdDdof1(*scratch); break;
        }
        out.SetFloat64(c, bucket, v);
        return;
      }
      case Measure::kEffectiveSpread:
      case Measure::kRealizedSpread:
      case Measure::kPriceImpact: {
        double s = 0.0;
        int64_t k = 0;
        for (int64_t r : all_rows) {
          const int side = SideOf(cols.aggressor, r);
          if (side == 0) continue;
          const double sign = side == 1 ? 1.0 : -1.0;
          const double p = cols.p(r), ref = b.ref(r), post = b.post(r);
          if (std::isnan(p) || std::isnan(ref) || std::isnan(post)) continue;
          if (m.measure == Measure::kEffectiveSpread) s += 2.0 * std::abs(p - ref);
          if (m.measure == Measure::kRealizedSpread) s += 2.0 * sign * (p - post);
          if (m.measure == Measure::kPriceImpact) s += 2.0 * sign * (post - ref);
          ++k;
        }
        if (k > 0) out.SetFloat64(c, bucket, s / static_cast<double>(k));
        return;
      }
      case Measure::kMarketState: return;
    }
  }

  Options options_;
  double bucket_seconds_ = 60.0;
  bool outputs_state_ = false;
  std::vector<InputTable> inputs_;
  std::vector<OutputColumn> outputs_;
};

}  // namespace

std::unique_ptr<Module> CreateTradeModule(const YamlValue& options, const PassShape& pass,
                                          ConfigDiagnostics* diag) {
  static constexpr std::array<std::string_view, 6> kKeys{
      "classifications", "market_states", "filters", "metrics", "annualisation_seconds", "tca_reference"};
  const size_t errors_before = diag->error_count();
  MapReader reader(options, kKeys, diag);
  Options opts;
  opts.filters = ReadTradeFilters(reader, diag);
  std::string tca_reference = "PreTradeMid1ms";
  if (const YamlValue* v = reader.Find("tca_reference")) {
    if (auto s = ReadNonEmptyString(*v, diag, "a trades price column, e.g. PreTradeMid1ms")) {
      const auto kind = KnownColumnKind(Table::kTrades, *s);
      if (!kind || *kind != ColumnKind::kFloat64) {
        diag->Error(v->location, v->path,
                    "expected a float price column of trades (e.g. PreTradeMid1ms), got '" + *s + "'");
      } else {
        tca_reference = *s;
      }
    }
  }
  if (const YamlValue* v = reader.Find("annualisation_seconds")) {
    if (auto s = ReadString(*v, diag, "a number of seconds")) {
      char* end = nullptr;
      const double y = std::strtod(s->c_str(), &end);
      if (end == s->c_str() || *end != '\0' || !(y > 0.0) || !std::isfinite(y)) {
        diag->Error(v->location, v->path,
                    "expected a positive number of seconds (e.g. 21772800 = 252*86400), got '" + *s + "'");
      } else {
        opts.year_seconds = y;
      }
    }
  }
  auto add_metric = [&](std::string_view name, const YamlValue* where) {
    auto m = ParseMetric(name, tca_reference);
    if (!m) {
      std::vector<std::string_view> known{"MarketState",
                                          "Open",
                                          "High",
                                          "Low",
                                          "Close",
                                          "Volatility",
                                          "VolumeWeightedPricePlacement",
                                          "TradeTotalVolume",
                                          "TradeTotalVWAP",
                                          "DiscrepancyToPreTradeMid",
                                          "EffectiveSpread1000ms",
                                          "BlockTradeCount"};
      diag->Error(where->location, where->path,
                  "unknown trade metric '" + std::string(name) + "'" +
                      (ClosestMatch(name, known)
                           ? SuggestionSuffix(name, known)
                           : std::string(": expected Trade{Total|Buy|Sell|Unknown}{Measure}, Open, "
                                         "High, Low, Close, VolumeWeightedPricePlacement, "
                                         "Volatility, MarketState, DiscrepancyTo{Ref}[{Side}][{Agg}], "
                                         "{Flag}{Volume|Count|AvgNotional} or "
                                         "{EffectiveSpread|RealizedSpread|PriceImpact}{H}ms")) +
                      " (see docs/metrics/trade.md)");
      return;
    }
    for (const auto& have : opts.metrics) {
      if (have.column.name == name) {
        diag->Error(where->location, where->path, "metric '" + std::string(name) + "' listed twice");
        return;
      }
    }
    opts.metrics.push_back(std::move(*m));
  };
  if (const YamlValue* v = reader.Find("metrics")) {
    if (auto items = ReadList(*v, diag, "[TradeTotalVolume, TradeTotalVWAP, Open]")) {
      for (const auto& item : *items) {
        if (auto s = ReadNonEmptyString(item, diag, "a metric column name")) add_metric(*s, &item);
      }
      if (items->empty()) diag->Error(v->location, v->path, "expected at least one metric");
    }
  } else {
    for (std::string_view name : kDefaultMetrics) add_metric(name, &options);
  }
  if (diag->error_count() != errors_before) return nullptr;
  return std::make_unique<TradeModule>(std::move(opts), pass);
}

}  // namespace intraday
