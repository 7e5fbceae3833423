#include "metrics/l2tw.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "metrics/book_values.h"

namespace intraday {
namespace {

enum class VolSource { kMid, kWeightedMid, kBid, kAsk };
constexpr std::array<std::string_view, 4> kVolKeys{"mid", "weighted_mid", "bid", "ask"};
constexpr std::array<std::string_view, 4> kVolNames{"Mid", "WeightedMid", "Bid", "Ask"};

struct L2TwOptions {
  int levels = 10;
  std::vector<book::Value> values;
  std::vector<std::string> market_states;  // empty: all
  std::vector<VolSource> volatility;
  int64_t sample_ns = 0;  // 0: every snapshot
  double year_seconds = 252.0 * 86400.0;
};

double SourceValue(const book::Columns& c, int64_t row, VolSource source) {
  switch (source) {
    case VolSource::kMid: return c.Mid(row);
    case VolSource::kWeightedMid: return c.WeightedMid(row);
    case VolSource::kBid: return c.Price(row, 0, 1);
    case VolSource::kAsk: return c.Price(row, 1, 1);
  }
  return book::kNull;
}

class L2TwModule final : public Module {
 public:
  explicit L2TwModule(L2TwOptions options) : options_(std::move(options)) {
    for (const book::Value& v : options_.values) {
      depth_ = std::max(depth_, book::DepthOf(v));
      const book::Family& f = book::FamilyOf(v.kind);
      outputs_.push_back({book::NameOf(v) + "TWA", ValueType::kFloat64, std::string(f.unit),
                          "time-weighted average over the bucket of the " + book::DescriptionOf(v)});
    }
    if (!options_.volatility.empty()) depth_ = std::max(depth_, 1);
    for (VolSource source : options_.volatility) {
      outputs_.push_back(
          {"L2Volatility" + std::string(kVolNames[static_cast<size_t>(source)]), ValueType::kFloat64, "",
           "annualised std of the log returns of the " + std::string(kVolNames[static_cast<size_t>(source)]) +
               " between consecutive snapshots ending in the bucket"});
    }
    InputTable input{Table::kL2, book::Columns::InputNames(options_.values, !options_.volatility.empty())};
    if (!options_.market_states.empty()) input.columns.push_back("MarketState");
    inputs_.push_back(std::move(input));
  }

  std::string_view name() const override { return "l2tw"; }
  const std::vector<InputTable>& inputs() const override { return inputs_; }
  const std::vector<OutputColumn>& outputs() const override { return outputs_; }

  /// The time-weighted averages need the snapshot in force when the slice starts (the last one
  /// before it), and volatility sampling every snapshot the previous included one with a price.
  /// Volatility sampled on a clock (`sample`) cannot stream: a sampling slot may straddle the
  /// slice's start, and which snapshot it samples depends on events after it.
  bool streams_over_time() const override { return options_.volatility.empty() || options_.sample_ns == 0; }
  void CarriedRows(size_t /*input*/, const ListingTable& events, std::vector<int64_t>* rows) const override {
    if (options_.volatility.empty() || events.empty()) return;
    auto columns = book::Columns::Load(events, depth_);
    auto in_set = IncludedSnapshots(events);
    if (!columns.ok() || !in_set.ok()) return;
    for (VolSource source : options_.volatility) {
      for (int64_t i = events.size() - 1; i >= 0; --i) {
        if (!in_set->empty() && (*in_set)[static_cast<size_t>(i)] == 0) continue;
        const double v = SourceValue(*columns, i, source);
        if (std::isnan(v) || v <= 0) continue;
        rows->push_back(i);
        break;
      }
    }
    std::sort(rows->begin(), rows->end());
    rows->erase(std::unique(rows->begin(), rows->end()), rows->end());
  }

  Status Compute(const ListingDay& listing, OutputBlock& out) const override {
    const ListingTable& table = *listing.tables[0];
    INTRADAY_ASSIGN_OR_RAISE(const book::Columns columns, book::Columns::Load(table, depth_));
    INTRADAY_ASSIGN_OR_RAISE(const std::vector<uint8_t> in_set, IncludedSnapshots(table));
    auto included = [&](int64_t i) { return in_set.empty() || in_set[static_cast<size_t>(i)] != 0; };
    TimeWeighted(listing, table, columns, included, out);
    for (size_t s = 0; s < options_.volatility.size(); ++s) {
      Volatility(listing, table, columns, included, options_.volatility[s], options_.values.size() + s, out);
    }
    return Status::OK();
  }

 private:
  /// Per snapshot, whether its MarketState is one of market_states; empty without that option.
  Result<std::vector<uint8_t>> IncludedSnapshots(const ListingTable& table) const {
    std::vector<uint8_t> in_set;
    if (options_.market_states.empty()) return in_set;
    in_set.assign(static_cast<size_t>(table.size()), 0);
    if (!table.has_column("MarketState")) return in_set;
    INTRADAY_ASSIGN_OR_RAISE(const arrow::StringArray* states, table.String("MarketState"));
    for (int64_t i = 0; i < table.size(); ++i) {
      if (states->IsNull(i)) continue;
      const std::string_view s = states->GetView(i);
      in_set[static_cast<size_t>(i)] = std::find(options_.market_states.begin(), options_.market_states.end(),
                                                 s) != options_.market_states.end();
    }
    return in_set;
  }

  /// Each value's average is accumulated a column at a time: first the stretches (which
  /// snapshot is in force in which bucket, for how long), then per value one pass over them,
  /// which reads the snapshot's value from a contiguous column instead of deriving 45 values
  /// per snapshot one by one. Additions run in the same order as a snapshot-by-snapshot loop.
  template <typename Included>
  void TimeWeighted(const ListingDay& listing, const ListingTable& table, const book::Columns& columns,
                    const Included& included, OutputBlock& out) const {
    if (options_.values.empty()) return;
    const int64_t n = table.size();
    const int64_t* t = table.times();
    struct Stretch {
      int64_t snapshot;
      int64_t duration;
      size_t row;
    };
    std::vector<Stretch> stretches;
    stretches.reserve(static_cast<size_t>(n) + listing.labels.size());
    int64_t cur = -1;
    int64_t next = 0;
    auto add = [&](int64_t from, int64_t to, size_t row) {
      if (cur >= 0 && to > from && included(cur)) stretches.push_back({cur, to - from, row});
    };
    for (size_t row = 0; row < listing.labels.size(); ++row) {
      const int64_t begin = listing.grid->IntervalBegin(listing.labels[row]);
      const int64_t end = listing.grid->IntervalEnd(listing.labels[row]);
      while (next < n && t[next] <= begin) cur = next++;
      int64_t from = begin;
      while (next < n && t[next] < end) {
        add(from, t[next], row);
        from = t[next];
        cur = next++;
      }
      add(from, end, row);
    }
    // kBlock values per pass over the stretches, summed in registers bucket by bucket (a
    // bucket's stretches are contiguous): kBlock independent chains of additions instead of one
    // chain through memory. A null adds 0 to the sum (never -0: sums start at +0) and 0 to the
    // time, which leaves both as skipping it would.
    constexpr size_t kBlock = 8;
    std::array<std::vector<double>, kBlock> values;
    std::vector<double> scratch;
    for (size_t first = 0; first < options_.values.size(); first += kBlock) {
      const size_t width = std::min(kBlock, options_.values.size() - first);
      std::array<const double*, kBlock> column;
      for (size_t j = 0; j < kBlock; ++j) {
        column[j] = j < width ? columns.Column(options_.values[first + j]) : nullptr;
        if (column[j] != nullptr) continue;  // read in place
        values[j].resize(static_cast<size_t>(n));
        if (j < width) {
          columns.Fill(options_.values[first + j], n, values[j].data(), &scratch);
        } else {
          std::fill(values[j].begin(), values[j].end(), book::kNull);
        }
        column[j] = values[j].data();
      }
      for (size_t a = 0; a < stretches.size();) {
        const size_t row = stretches[a].row;
        std::array<double, kBlock> num{};
        std::array<int64_t, kBlock> den{};
        for (; a < stretches.size() && stretches[a].row == row; ++a) {
          const Stretch& s = stretches[a];
          const auto snapshot = static_cast<size_t>(s.snapshot);
          const double dt = static_cast<double>(s.duration);
          for (size_t j = 0; j < kBlock; ++j) {
            const double v = column[j][snapshot];
            const bool valid = !std::isnan(v);
            num[j] += valid ? v * dt : 0.0;
            den[j] += valid ? s.duration : 0;
          }
        }
        for (size_t j = 0; j < width; ++j) {
          if (den[j] > 0) out.SetFloat64(first + j, row, num[j] / static_cast<double>(den[j]));
        }
      }
    }
  }

  template <typename Included>
  void Volatility(const ListingDay& listing, const ListingTable& table, const book::Columns& columns,
                  const Included& included, VolSource source, size_t column, OutputBlock& out) const {
    const double scale_per_return =
        options_.year_seconds / (static_cast<double>(listing.grid->length()) / 1e9);
    std::vector<double> returns;  // of the current row
    size_t row = 0;
    auto flush = [&]() {
      if (returns.size() >= 2) {
        double mean = 0;
        for (double r : returns) mean += r;
        mean /= static_cast<double>(returns.size());
        double ss = 0;
        for (double r : returns) ss += (r - mean) * (r - mean);
        const double nr = static_cast<double>(returns.size());
        const double sd = std::sqrt(ss / (nr - 1));
        out.SetFloat64(column, row, sd * std::sqrt(nr * scale_per_return));
      }
      returns.clear();
    };
    double prev = book::kNull;
    auto sample = [&](double v, int64_t time) {
      if (!std::isnan(prev)) {
        const size_t r = listing.RowOf(time);
        if (r != row) {
          flush();
          row = r;
        }
        returns.push_back(std::log(v / prev));
      }
      prev = v;
    };
    const int64_t d = options_.sample_ns;
    double pending = book::kNull;
    int64_t pending_time = 0;
    int64_t pending_slot = 0;
    for (int64_t i = 0; i < table.size(); ++i) {
      if (!included(i)) continue;
      const double v = SourceValue(columns, i, source);
      if (std::isnan(v) || v <= 0) continue;
      const int64_t time = table.times()[i];
      if (d == 0) {
        sample(v, time);
        continue;
      }
      const int64_t slot = time >= 0 ? time / d : -((-time + d - 1) / d);
      if (!std::isnan(pending) && slot != pending_slot) sample(pending, pending_time);
      pending = v;
      pending_time = time;
      pending_slot = slot;
    }
    if (!std::isnan(pending)) sample(pending, pending_time);
    flush();
  }

  L2TwOptions options_;
  int depth_ = 0;
  std::vector<InputTable> inputs_;
  std::vector<OutputColumn> outputs_;
};

std::vector<book::Value> DefaultTwaValues(int levels) {
  std::vector<book::Value> values;
  for (book::Kind kind : {book::Kind::kSpreadAbs, book::Kind::kSpreadBps, book::Kind::kMid,
                          book::Kind::kWeightedMid, book::Kind::kPrice, book::Kind::kQuantity}) {
    book::Expand(kind, levels, &values);
  }
  values.push_back({book::Kind::kImbalanceCumQuantity, 0, 1});
  return values;
}

}  // namespace

std::unique_ptr<Module> CreateL2TwModule(const YamlValue& options, const PassShape& /*pass*/,
                                         ConfigDiagnostics* diag) {
  static constexpr std::array<std::string_view, 4> kKeys{"levels", "metrics", "market_states", "volatility"};
  static constexpr std::array<std::string_view, 3> kVolOptionKeys{"sources", "sample", "year_seconds"};
  const size_t errors_before = diag->error_count();
  MapReader reader(options, kKeys, diag);
  L2TwOptions opts;
  book::ReadLevelsAndSelection(reader, false, "TWA", DefaultTwaValues, &opts.levels, &opts.values, diag);
  if (const YamlValue* states = reader.Find("market_states")) {
    if (auto chosen = ReadChoices(*states, diag, book::kMarketStates, "[CONTINUOUS_TRADING]",
                                  "expected at least one market state")) {
      for (size_t choice : *chosen) opts.market_states.emplace_back(book::kMarketStates[choice]);
    }
  }
  if (const YamlValue* vol = reader.Find("volatility")) {
    MapReader vol_reader(*vol, kVolOptionKeys, diag);
    if (const YamlValue* sources = vol_reader.Find("sources")) {
      if (auto chosen = ReadChoices(*sources, diag, kVolKeys, "[mid, weighted_mid]",
                                    "expected at least one volatility source")) {
        for (size_t choice : *chosen) opts.volatility.push_back(static_cast<VolSource>(choice));
      }
    } else if (vol_reader.ok()) {
      opts.volatility.push_back(VolSource::kMid);
    }
    if (const YamlValue* sample = vol_reader.Find("sample")) {
      if (auto d = ReadDuration(*sample, diag)) opts.sample_ns = *d;
    }
    if (const YamlValue* year = vol_reader.Find("year_seconds")) {
      if (auto y = ReadInt(*year, diag, 1, int64_t{1} << 40)) opts.year_seconds = static_cast<double>(*y);
    }
  }
  if (diag->error_count() != errors_before) return nullptr;
  return std::make_unique<L2TwModule>(std::move(opts));
}

}  // namespace intraday
