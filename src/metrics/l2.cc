#include "metrics/l2.h"

#include <algorithm>
#include <array>

#include "metrics/book_values.h"

namespace intraday {
namespace {

enum class OhlcSource { kMid, kBid, kAsk, kWeightedMid };
constexpr std::array<std::string_view, 4> kOhlcKeys{"mid", "bid", "ask", "weighted_mid"};
constexpr std::array<std::string_view, 4> kOhlcNames{"Mid", "Bid", "Ask", "WeightedMid"};

struct L2Options {
  int levels = 10;
  std::vector<book::Value> values;
  std::vector<OhlcSource> ohlc;
  bool prev_close = false;
};

double SourceValue(const book::Columns& c, int64_t row, OhlcSource source) {
  switch (source) {
    case OhlcSource::kMid: return c.Mid(row);
    case OhlcSource::kWeightedMid: return c.WeightedMid(row);
    case OhlcSource::kBid: return c.Price(row, 0, 1);
    case OhlcSource::kAsk: return c.Price(row, 1, 1);
  }
  return book::kNull;
}

class L2Module final : public Module {
 public:
  explicit L2Module(L2Options options) : options_(std::move(options)) {
    InputTable input{Table::kL2, {}};
    for (const book::Value& v : options_.values) {
      depth_ = std::max(depth_, book::DepthOf(v));
      if (v.kind == book::Kind::kMarketState) reads_state_ = true;
      const book::Family& f = book::FamilyOf(v.kind);
      outputs_.push_back(
          {book::NameOf(v), f.type, std::string(f.unit), "state at bucket end: " + book::DescriptionOf(v)});
    }
    if (!options_.ohlc.empty()) depth_ = std::max(depth_, 1);
    for (OhlcSource source : options_.ohlc) {
      const std::string name(kOhlcNames[static_cast<size_t>(source)]);
      const std::string fill =
          options_.prev_close ? "; empty buckets repeat the previous close" : "; null in empty buckets";
      outputs_.push_back({name + "Open", ValueType::kFloat64, "price",
                          "first " + name + " of the bucket's snapshots" + fill});
      outputs_.push_back({name + "High", ValueType::kFloat64, "price",
                          "highest " + name + " of the bucket's snapshots" + fill});
      outputs_.push_back({name + "Low", ValueType::kFloat64, "price",
                          "lowest " + name + " of the bucket's snapshots" + fill});
      outputs_.push_back({name + "Close", ValueType::kFloat64, "price",
                          "last " + name + " of the bucket's snapshots" + fill});
    }
    input.columns = book::Columns::InputNames(options_.values, !options_.ohlc.empty());
    if (reads_state_) input.columns.push_back("MarketState");
    inputs_.push_back(std::move(input));
  }

  std::string_view name() const override { return "l2"; }
  const std::vector<InputTable>& inputs() const override { return inputs_; }
  const std::vector<OutputColumn>& outputs() const override { return outputs_; }

  /// A bucket's values are those of the snapshot in force at its end (the last one before it
  /// when it has none) and the OHLC of its own snapshots; prev_close repeats the last value of
  /// each source, so the last snapshot with a value of each source is carried as well.
  bool streams_over_time() const override { return true; }
  void CarriedRows(size_t /*input*/, const ListingTable& events, std::vector<int64_t>* rows) const override {
    if (!options_.prev_close || events.empty()) return;
    auto columns = book::Columns::Load(events, depth_);
    if (!columns.ok()) return;
    for (OhlcSource source : options_.ohlc) {
      for (int64_t r = events.size() - 1; r >= 0; --r) {
        if (!std::isnan(SourceValue(*columns, r, source))) {
          rows->push_back(r);
          break;
        }
      }
    }
    std::sort(rows->begin(), rows->end());
    rows->erase(std::unique(rows->begin(), rows->end()), rows->end());
  }

  Status Compute(const ListingDay& listing, OutputBlock& out) const override {
    const ListingTable& table = *listing.tables[0];
    INTRADAY_ASSIGN_OR_RAISE(const book::Columns columns, book::Columns::Load(table, depth_));
    const arrow::StringArray* states = nullptr;
    if (reads_state_ && table.has_column("MarketState")) {
      INTRADAY_ASSIGN_OR_RAISE(states, table.String("MarketState"));
    }
    const size_t rows = out.rows();
    const size_t first_ohlc = options_.values.size();
    const size_t sources = options_.ohlc.size();
    // Per row: the last snapshot assigned to it (-1: none). OHLC per source and row.
    std::vector<int64_t> last(rows, -1);
    std::vector<std::array<double, 4>> ohlc(rows * sources,
                                            {book::kNull, book::kNull, book::kNull, book::kNull});
    for (int64_t i = 0; i < table.size(); ++i) {
      const size_t row = listing.RowOf(table.times()[i]);
      last[row] = i;
      for (size_t s = 0; s < sources; ++s) {
        const double v = SourceValue(columns, i, options_.ohlc[s]);
        if (std::isnan(v)) continue;
        auto& o = ohlc[row * sources + s];
        if (std::isnan(o[0])) {
          o = {v, v, v, v};
        } else {
          o[1] = std::max(o[1], v);
          o[2] = std::min(o[2], v);
          o[3] = v;
        }
      }
    }
    int64_t state = -1;
    std::vector<double> close(sources, book::kNull);
    for (size_t row = 0; row < rows; ++row) {
      if (last[row] >= 0) state = last[row];
      if (state >= 0) {
        for (size_t k = 0; k < options_.values.size(); ++k) {
          const book::Value& v = options_.values[k];
          if (v.kind == book::Kind::kMarketState) {
            if (states != nullptr && !states->IsNull(state))
              out.SetString(k, row, std::string(states->GetView(state)));
            continue;
          }
          const double x = columns.Get(state, v);
          if (std::isnan(x)) continue;
          if (outputs_[k].type == ValueType::kInt64) {
            out.SetInt64(k, row, static_cast<int64_t>(std::llround(x)));
          } else {
            out.SetFloat64(k, row, x);
          }
        }
      }
      for (size_t s = 0; s < sources; ++s) {
        auto o = ohlc[row * sources + s];
        if (std::isnan(o[0]) && options_.prev_close && !std::isnan(close[s]))
          o = {close[s], close[s], close[s], close[s]};
        if (std::isnan(o[0])) continue;
        close[s] = o[3];
        for (size_t j = 0; j < 4; ++j) out.SetFloat64(first_ohlc + 4 * s + j, row, o[j]);
      }
    }
    return Status::OK();
  }

 private:
  L2Options options_;
  int depth_ = 0;
  bool reads_state_ = false;
  std::vector<InputTable> inputs_;
  std::vector<OutputColumn> outputs_;
};

std::vector<book::Value> DefaultStateValues(int levels) {
  std::vector<book::Value> values;
  for (book::Kind kind : {book::Kind::kPrice, book::Kind::kQuantity, book::Kind::kNumOrders,
                          book::Kind::kCumQuantity, book::Kind::kCumOrders, book::Kind::kImbalanceCumQuantity,
                          book::Kind::kImbalanceOrders, book::Kind::kSpreadBps, book::Kind::kMarketState}) {
    book::Expand(kind, levels, &values);
  }
  return values;
}

}  // namespace

std::unique_ptr<Module> CreateL2Module(const YamlValue& options, const PassShape& /*pass*/,
                                       ConfigDiagnostics* diag) {
  static constexpr std::array<std::string_view, 3> kKeys{"levels", "metrics", "ohlc"};
  static constexpr std::array<std::string_view, 2> kOhlcKeysOfMap{"sources", "mode"};
  static constexpr std::array<std::string_view, 2> kModes{"event", "prev_close"};
  const size_t errors_before = diag->error_count();
  MapReader reader(options, kKeys, diag);
  L2Options opts;
  book::ReadLevelsAndSelection(reader, true, "", DefaultStateValues, &opts.levels, &opts.values, diag);
  if (const YamlValue* ohlc = reader.Find("ohlc")) {
    MapReader ohlc_reader(*ohlc, kOhlcKeysOfMap, diag);
    if (const YamlValue* sources = ohlc_reader.Require("sources", "a list such as [mid, weighted_mid]")) {
      if (auto chosen = ReadChoices(*sources, diag, kOhlcKeys, "[mid, weighted_mid]",
                                    "expected at least one OHLC source")) {
        for (size_t choice : *chosen) opts.ohlc.push_back(static_cast<OhlcSource>(choice));
      }
    }
    if (const YamlValue* mode = ohlc_reader.Find("mode")) {
      if (auto choice = ReadChoice(*mode, diag, kModes)) opts.prev_close = *choice == 1;
    }
  }
  if (diag->error_count() != errors_before) return nullptr;
  return std::make_unique<L2Module>(std::move(opts));
}

}  // namespace intraday
