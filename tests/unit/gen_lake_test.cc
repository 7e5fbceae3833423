// End-to-end tests of `generate`: lakes written to a temporary directory and read back with the
// io reader. Determinism, calendar, layouts, the consistency of L2 and trades with the L3 flow,
// and the shares the model promises.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <arrow/array.h>
#include <arrow/filesystem/localfs.h>
#include <arrow/table.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>
#include <parquet/statistics.h>

#include "gen/lake_generator.h"
#include "gen/universe.h"
#include "io/lake.h"
#include "io/table_reader.h"

namespace intraday::gen {
namespace {

namespace fs = std::filesystem;

const Date kFriday = Date::FromYmd(2026, 1, 2);
constexpr int64_t kMsNs = 1'000'000;

class TempDir {
 public:
  explicit TempDir(const std::string& name) : path_(fs::temp_directory_path() / ("intraday_gen_" + name)) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

GenerateOptions TinyOptions(const std::string& out) {
  GenerateOptions o;
  o.out = out;
  o.listings = 8;
  o.mics = {"XLON", "XPAR", "XETR"};
  o.days = WeekdaysFrom(kFriday, 2);
  o.seed = 11;
  o.profile = Profile::kTiny;
  return o;
}

GenerateReport Generate(const GenerateOptions& o) {
  auto report = GenerateLake(o);
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  return report.ok() ? *report : GenerateReport{};
}

std::string LakePath(const std::string& root, Table table, Date day, const std::string& mic) {
  return root + "/" + *ExpandPathTemplate(DefaultPathTemplate(table), table, day, mic);
}

// The columns of one lake file, read with the engine's reader (timestamps come back in ns).
class Columns {
 public:
  Columns(const std::string& root, Table table, Date day, const std::string& mic,
          std::vector<std::string> names) {
    const std::string path = LakePath(root, table, day, mic);
    TableReadOptions options;
    options.columns = std::move(names);
    auto reader =
        TableFileReader::Open(std::make_shared<arrow::fs::LocalFileSystem>(), path, path, table, options);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return;
    auto batches = (*reader)->ReadAll();
    EXPECT_TRUE(batches.ok()) << batches.status().ToString();
    if (!batches.ok()) return;
    table_ = *arrow::Table::FromRecordBatches((*reader)->schema(), *batches);
  }

  int64_t rows() const { return table_ ? table_->num_rows() : 0; }

  std::vector<int64_t> I64(const std::string& name) const {
    std::vector<int64_t> out;
    for (const auto& chunk : Column(name)) {
      for (int64_t i = 0; i < chunk->length(); ++i) {
        if (chunk->IsNull(i)) {
          out.push_back(kNullInt);
        } else if (chunk->type_id() == arrow::Type::INT32) {
          out.push_back(chunk->data()->GetValues<int32_t>(1)[i]);
        } else {
          out.push_back(chunk->data()->GetValues<int64_t>(1)[i]);  // int64, timestamp[ns]
        }
      }
    }
    return out;
  }
  std::vector<double> F64(const std::string& name) const {
    std::vector<double> out;
    for (const auto& chunk : Column(name)) {
      const auto& a = static_cast<const arrow::DoubleArray&>(*chunk);
      for (int64_t i = 0; i < a.length(); ++i) out.push_back(a.IsNull(i) ? kNullDouble : a.Value(i));
    }
    return out;
  }
  std::vector<std::string> Str(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& chunk : Column(name)) {
      const auto& a = static_cast<const arrow::StringArray&>(*chunk);
      for (int64_t i = 0; i < a.length(); ++i)
        out.push_back(a.IsNull(i) ? "<null>" : std::string(a.GetView(i)));
    }
    return out;
  }
  std::vector<bool> Bool(const std::string& name) const {
    std::vector<bool> out;
    for (const auto& chunk : Column(name)) {
      const auto& a = static_cast<const arrow::BooleanArray&>(*chunk);
      for (int64_t i = 0; i < a.length(); ++i) out.push_back(!a.IsNull(i) && a.Value(i));
    }
    return out;
  }

 private:
  arrow::ArrayVector Column(const std::string& name) const {
    if (!table_) return {};
    auto column = table_->GetColumnByName(name);
    EXPECT_NE(column, nullptr) << name;
    return column ? column->chunks() : arrow::ArrayVector{};
  }
  std::shared_ptr<arrow::Table> table_;
};

std::vector<std::string> FilesUnder(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) out.push_back(fs::relative(entry.path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Same(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(a));
}

// ---------------------------------------------------------------------------------------------

TEST(GenLake, SameOptionsGiveIdenticalBytesWhateverTheThreads) {
  TempDir a("det_a"), b("det_b"), c("det_c");
  GenerateOptions o = TinyOptions(a.str());
  o.threads = 1;
  Generate(o);
  o.out = b.str();
  o.threads = 4;
  Generate(o);
  const auto files = FilesUnder(a.path());
  ASSERT_EQ(files.size(), 2u * 3u * 7u);  // days x MICs x tables
  ASSERT_EQ(files, FilesUnder(b.path()));
  for (const auto& f : files) EXPECT_EQ(Bytes(a.path() / f), Bytes(b.path() / f)) << f;

  o.out = c.str();
  o.seed = 12;
  Generate(o);
  for (Table t : {Table::kTrades, Table::kL3, Table::kL2}) {
    const std::string f = LakePath("", t, kFriday, "XLON");
    EXPECT_NE(Bytes(a.str() + f), Bytes(c.str() + f)) << "another seed, same " << f;
  }
}

TEST(GenLake, ListingLayoutIsDeterministicToo) {
  TempDir a("detl_a"), b("detl_b");
  GenerateOptions o = TinyOptions(a.str());
  o.layout = Layout::kListing;
  o.row_group_rows = 300;
  o.threads = 1;
  Generate(o);
  o.out = b.str();
  o.threads = 3;
  Generate(o);
  const auto files = FilesUnder(a.path());
  ASSERT_EQ(files, FilesUnder(b.path()));
  for (const auto& f : files) EXPECT_EQ(Bytes(a.path() / f), Bytes(b.path() / f)) << f;
}

TEST(GenLake, WeekendsHaveNoFiles) {
  TempDir dir("weekend");
  GenerateOptions o = TinyOptions(dir.str());
  o.days = *WeekdaysBetween(kFriday, Date::FromYmd(2026, 1, 5));
  ASSERT_EQ(o.days.size(), 2u);
  const GenerateReport report = Generate(o);
  ASSERT_EQ(report.days.size(), 2u);
  for (const auto& day : report.days) {
    EXPECT_GT(day.counts[Table::kL3], 0) << day.day.ToString();
    EXPECT_GT(day.counts[Table::kTrades], 0) << day.day.ToString();
  }
  for (int d = 2; d <= 5; ++d) {
    const Date day = Date::FromYmd(2026, 1, static_cast<unsigned>(d));
    for (const auto& spec : AllTables()) {
      EXPECT_EQ(fs::exists(LakePath(dir.str(), spec.table, day, "XLON")), !day.is_weekend())
          << spec.key << " " << day.ToString();
    }
  }
}

TEST(GenLake, TimeLayoutRowsAreInEventTimeOrderInsideTheDay) {
  TempDir dir("time_order");
  GenerateOptions o = TinyOptions(dir.str());
  o.days = {kFriday};
  o.row_group_rows = 500;
  Generate(o);
  const std::pair<Table, const char*> time_columns[] = {
      {Table::kL3, "TimestampNanoseconds"}, {Table::kL2, "EventTimestamp"},
      {Table::kTrades, "TradeTimestamp"},   {Table::kMarketState, "TimestampNanoseconds"},
      {Table::kCbbo, "EventTimestamp"},     {Table::kImbalance, "TimestampNanoseconds"}};
  for (const auto& mic : o.mics) {
    for (const auto& [table, column] : time_columns) {
      Columns c(dir.str(), table, kFriday, mic, {"ListingId", column});
      const auto t = c.I64(column);
      ASSERT_FALSE(t.empty()) << SpecOf(table).key << " " << mic;
      EXPECT_TRUE(std::is_sorted(t.begin(), t.end())) << SpecOf(table).key << " " << mic;
      EXPECT_GT(t.front(), kFriday.start_ns());
      EXPECT_LT(t.back(), kFriday.next().start_ns());
      const auto ids = c.I64("ListingId");
      EXPECT_GT(std::set<int64_t>(ids.begin(), ids.end()).size(), 1u)
          << "rows of several listings interleave";
    }
  }
}

// Row-group ListingId statistics of a file, in file order.
std::vector<std::pair<int64_t, int64_t>> ListingIdRanges(const std::string& path) {
  auto reader = parquet::ParquetFileReader::OpenFile(path);
  auto meta = reader->metadata();
  const int column = meta->schema()->ColumnIndex("ListingId");
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int rg = 0; rg < meta->num_row_groups(); ++rg) {
    auto stats = std::static_pointer_cast<parquet::Int64Statistics>(
        meta->RowGroup(rg)->ColumnChunk(column)->statistics());
    EXPECT_TRUE(stats != nullptr && stats->HasMinMax());
    if (stats) out.emplace_back(stats->min(), stats->max());
  }
  return out;
}

TEST(GenLake, ListingLayoutGivesDisjointListingIdRangesPerRowGroup) {
  TempDir listing("layout_listing"), time("layout_time");
  GenerateOptions o = TinyOptions(listing.str());
  o.listings = 16;
  o.mics = {"XLON", "XPAR"};
  o.days = {kFriday};
  o.layout = Layout::kListing;
  o.row_group_rows = 600;  // tiny listings have ~150-500 L3 rows, the busiest a few thousand
  Generate(o);
  o.out = time.str();
  o.layout = Layout::kTime;
  Generate(o);

  for (const auto& mic : o.mics) {
    for (Table table : {Table::kL3, Table::kL2, Table::kTrades, Table::kCbbo}) {
      const std::string what = std::string(SpecOf(table).key) + " " + mic;
      const auto ranges = ListingIdRanges(LakePath(listing.str(), table, kFriday, mic));
      ASSERT_FALSE(ranges.empty()) << what;
      bool shared = false, own = false;
      for (size_t i = 0; i < ranges.size(); ++i) {
        shared |= ranges[i].first < ranges[i].second;
        if (i == 0) continue;
        const auto& prev = ranges[i - 1];
        const auto& cur = ranges[i];
        EXPECT_LE(prev.second, cur.first) << what << " row group " << i;
        if (prev.second == cur.first) {
          // A listing split over row groups has them to itself.
          EXPECT_EQ(prev.first, prev.second) << what << " row group " << i - 1;
          EXPECT_EQ(cur.first, cur.second) << what << " row group " << i;
          own = true;
        }
      }
      if (table == Table::kL3) {
        EXPECT_GT(ranges.size(), 2u) << what;
        EXPECT_TRUE(shared) << what << ": small listings share row groups";
        EXPECT_TRUE(own) << what << ": a large listing spans row groups of its own";
      }
    }
    // Same rows as the time layout, only ordered differently: per-listing counts and checksums.
    auto per_listing = [&](const std::string& root) {
      Columns c(root, Table::kL3, kFriday, mic, {"ListingId", "EventNo", "TimestampNanoseconds"});
      std::map<int64_t, std::pair<int64_t, uint64_t>> out;  // rows, checksum
      const auto ids = c.I64("ListingId"), events = c.I64("EventNo"), times = c.I64("TimestampNanoseconds");
      for (size_t i = 0; i < ids.size(); ++i) {
        out[ids[i]].first += 1;
        out[ids[i]].second += static_cast<uint64_t>(events[i] ^ times[i]);  // wraps, never overflows
      }
      return std::make_pair(out, ids);
    };
    const auto [by_listing, ids] = per_listing(listing.str());
    EXPECT_EQ(by_listing, per_listing(time.str()).first) << mic;
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end())) << mic;
  }
}

// ---------------------------------------------------------------------------------------------
// Consistency of L2 and trades with the L3 flow, by replaying the flow into an independent book.

struct RefOrder {
  std::string id;
  int64_t size;
};
struct RefLevel {
  double price;
  int64_t quantity;
  int64_t orders;
  bool operator==(const RefLevel&) const = default;
};
struct RefBook {
  std::map<double, std::vector<RefOrder>> side[2];  // 0 bids, 1 asks

  std::vector<RefLevel> Top(int s) const {
    std::vector<RefLevel> out;
    auto add = [&](const auto& entry) {
      int64_t q = 0;
      for (const auto& o : entry.second) q += o.size;
      out.push_back({entry.first, q, static_cast<int64_t>(entry.second.size())});
      return out.size() < 10;
    };
    if (s == 0) {
      for (auto it = side[0].rbegin(); it != side[0].rend() && add(*it); ++it) {
      }
    } else {
      for (auto it = side[1].begin(); it != side[1].end() && add(*it); ++it) {
      }
    }
    return out;
  }
  double Best(int s) const {
    if (side[s].empty()) return kNullDouble;
    return s == 0 ? side[0].rbegin()->first : side[1].begin()->first;
  }
  double Mid() const { return 0.5 * (Best(0) + Best(1)); }  // NaN when one-sided
};

TEST(GenLake, L2AndTradesAreConsistentWithTheL3Flow) {
  TempDir dir("book");
  GenerateOptions o;
  o.out = dir.str();
  o.listings = 5;
  o.mics = {"XLON"};
  o.days = {kFriday};
  o.seed = 21;
  o.profile = Profile::kSmall;
  Generate(o);
  const Universe universe = Universe::Build(o.seed, o.listings, o.mics);

  Columns l3(dir.str(), Table::kL3, kFriday, "XLON",
             {"ListingId", "TimestampNanoseconds", "Side", "LobAction", "OrderId", "OldOrderId", "Price",
              "Size", "OldPrice", "OldSize", "OrderExecuted", "ExecutionPrice", "ExecutionSize", "SizeAhead",
              "OrdersAhead", "PosChange", "EndOfEvent", "MarketState", "TradeId"});
  std::vector<std::string> l2_columns = {"ListingId",   "TimestampNanoseconds", "EventTimestamp",
                                         "MarketState", "BidLevelCount",        "AskLevelCount"};
  for (int l = 1; l <= 10; ++l) {
    for (const char* side : {"Bid", "Ask"}) {
      for (const char* field : {"Price", "Quantity", "NumOrders"}) {
        l2_columns.push_back(std::string(side) + field + std::to_string(l));
      }
    }
  }
  Columns l2(dir.str(), Table::kL2, kFriday, "XLON", l2_columns);
  Columns tr(dir.str(), Table::kTrades, kFriday, "XLON",
             {"ListingId", "TradeTimestampNanoseconds", "TradeTimestamp", "Price", "Size", "TradeNotional",
              "AggressorSide", "Classification", "BestBidPrice", "BestAskPrice", "PricePoint",
              "PreTradeMid1ms", "PostTradeMid", "PostTradeMid1000ms", "PreTradeMid60000ms"});
  ASSERT_GT(l3.rows(), 5'000);

  const auto lid = l3.I64("ListingId"), ts = l3.I64("TimestampNanoseconds"), side = l3.I64("Side"),
             action = l3.I64("LobAction"), size = l3.I64("Size"), old_size = l3.I64("OldSize"),
             exec_size = l3.I64("ExecutionSize"), ahead = l3.I64("SizeAhead"),
             orders_ahead = l3.I64("OrdersAhead");
  const auto order_id = l3.Str("OrderId"), old_order_id = l3.Str("OldOrderId"), state = l3.Str("MarketState"),
             trade_id = l3.Str("TradeId");
  const auto price = l3.F64("Price"), old_price = l3.F64("OldPrice"), exec_price = l3.F64("ExecutionPrice");
  const auto executed = l3.Bool("OrderExecuted"), pos_change = l3.Bool("PosChange"),
             eoe = l3.Bool("EndOfEvent");

  // L2 rows by (listing, ns timestamp).
  std::map<std::pair<int64_t, int64_t>, int64_t> l2_at;
  const auto l2_lid = l2.I64("ListingId"), l2_ts = l2.I64("TimestampNanoseconds"),
             l2_us = l2.I64("EventTimestamp");
  for (int64_t i = 0; i < l2.rows(); ++i) {
    EXPECT_TRUE(l2_at.emplace(std::make_pair(l2_lid[i], l2_ts[i]), i).second) << "one L2 row per event";
    EXPECT_EQ(l2_us[i], l2_ts[i] / 1000 * 1000) << "EventTimestamp is the event time truncated to us";
  }
  std::map<std::string, std::vector<double>> l2_f;
  std::map<std::string, std::vector<int64_t>> l2_i;
  for (const auto& name : l2_columns) {
    if (name.find("Price") != std::string::npos) {
      l2_f[name] = l2.F64(name);
    } else if (name != "MarketState") {
      l2_i[name] = l2.I64(name);
    }
  }
  const auto l2_state = l2.Str("MarketState");

  std::map<int64_t, RefBook> books;
  std::map<int64_t, std::vector<std::pair<int64_t, double>>> mids;  // per listing: (t, mid after)
  std::map<std::pair<int64_t, int64_t>, std::pair<double, double>>
      pre_bbo;                                        // (listing, t) -> bid, ask before
  std::map<int64_t, std::vector<RefLevel>> last_top;  // per listing, both sides
  std::map<int64_t, int64_t> continuous_fills;
  int64_t matched_l2 = 0, groups = 0, ahead_errors = 0;

  for (int64_t i = 0; i < l3.rows(); ++i) {
    RefBook& book = books[lid[i]];
    const int s = side[i] == 1 ? 0 : 1;
    const bool first_of_group = i == 0 || ts[i - 1] != ts[i] || lid[i - 1] != lid[i];
    if (first_of_group) pre_bbo[{lid[i], ts[i]}] = {book.Best(0), book.Best(1)};
    auto queue_ahead = [&](const std::vector<RefOrder>& q, size_t n) {
      int64_t sum = 0;
      for (size_t k = 0; k < n; ++k) sum += q[k].size;
      return std::make_pair(sum, static_cast<int64_t>(n));
    };
    if (action[i] == 2) {
      auto& q = book.side[s][price[i]];
      ahead_errors += queue_ahead(q, q.size()) != std::make_pair(ahead[i], orders_ahead[i]);
      q.push_back({order_id[i], size[i]});
      EXPECT_FALSE(executed[i]);
    } else {
      ASSERT_TRUE(action[i] == 3 || action[i] == 4) << action[i];
      auto level = book.side[s].find(old_price[i]);
      ASSERT_NE(level, book.side[s].end()) << "row " << i << ": no level at OldPrice";
      auto& q = level->second;
      const auto it =
          std::find_if(q.begin(), q.end(), [&](const RefOrder& ord) { return ord.id == old_order_id[i]; });
      ASSERT_NE(it, q.end()) << "row " << i << ": unknown OldOrderId " << old_order_id[i];
      EXPECT_EQ(it->size, old_size[i]) << "row " << i;
      const size_t index = static_cast<size_t>(it - q.begin());
      if (executed[i]) {
        EXPECT_EQ(exec_price[i], old_price[i]) << "row " << i;
        EXPECT_EQ(exec_size[i], action[i] == 3 ? old_size[i] : old_size[i] - size[i]) << "row " << i;
        EXPECT_GT(exec_size[i], 0);
        EXPECT_FALSE(trade_id[i].empty());
        if (state[i] == "CONTINUOUS_TRADING") ++continuous_fills[lid[i]];
      }
      if (action[i] == 3 || pos_change[i]) {
        ahead_errors += queue_ahead(q, index) != std::make_pair(ahead[i], orders_ahead[i]) && action[i] == 3;
        q.erase(it);
        if (q.empty()) book.side[s].erase(level);
        if (action[i] == 4) {
          auto& nq = book.side[s][price[i]];
          ahead_errors += queue_ahead(nq, nq.size()) != std::make_pair(ahead[i], orders_ahead[i]);
          nq.push_back({order_id[i], size[i]});
        }
      } else {
        EXPECT_EQ(price[i], old_price[i]) << "an update in place keeps its price";
        ahead_errors += queue_ahead(q, index) != std::make_pair(ahead[i], orders_ahead[i]);
        it->size = size[i];
      }
    }
    const bool last_of_group = i + 1 == l3.rows() || ts[i + 1] != ts[i] || lid[i + 1] != lid[i];
    EXPECT_EQ(eoe[i], last_of_group) << "row " << i << ": EndOfEvent closes the event";
    if (!last_of_group) continue;

    ++groups;
    mids[lid[i]].emplace_back(ts[i], book.Mid());
    std::vector<RefLevel> top = book.Top(0);
    const std::vector<RefLevel> asks = book.Top(1);
    const size_t n_bids = top.size();
    top.insert(top.end(), asks.begin(), asks.end());
    const auto found = l2_at.find({lid[i], ts[i]});
    if (found == l2_at.end()) {
      EXPECT_EQ(top, last_top[lid[i]]) << "row " << i << ": the top 10 changed without an L2 row";
    } else {
      ++matched_l2;
      const int64_t r = found->second;
      EXPECT_EQ(l2_i["BidLevelCount"][r], static_cast<int64_t>(book.side[0].size()));
      EXPECT_EQ(l2_i["AskLevelCount"][r], static_cast<int64_t>(book.side[1].size()));
      for (int l = 0; l < 10; ++l) {
        for (int sd = 0; sd < 2; ++sd) {
          const std::string name = sd == 0 ? "Bid" : "Ask", n = std::to_string(l + 1);
          const size_t k = sd == 0 ? static_cast<size_t>(l) : n_bids + static_cast<size_t>(l);
          const bool exists = sd == 0 ? k < n_bids : k < top.size();
          const double p = l2_f[name + "Price" + n][r];
          if (!exists) {
            EXPECT_TRUE(std::isnan(p)) << "row " << r << " " << name << n;
            EXPECT_EQ(l2_i[name + "Quantity" + n][r], 0);
            continue;
          }
          EXPECT_EQ(p, top[k].price) << "L2 row " << r << " " << name << "Price" << n;
          EXPECT_EQ(l2_i[name + "Quantity" + n][r], top[k].quantity) << "L2 row " << r << " " << name << n;
          EXPECT_EQ(l2_i[name + "NumOrders" + n][r], top[k].orders) << "L2 row " << r << " " << name << n;
        }
      }
    }
    last_top[lid[i]] = std::move(top);
  }
  EXPECT_EQ(ahead_errors, 0) << "SizeAhead / OrdersAhead disagree with the queue";
  EXPECT_EQ(matched_l2, l2.rows()) << "every L2 row is the book after an L3 event";
  EXPECT_GT(groups, matched_l2);

  // Continuous trading never shows a crossed or locked book.
  int64_t continuous_rows = 0;
  for (int64_t r = 0; r < l2.rows(); ++r) {
    if (l2_state[r] != "CONTINUOUS_TRADING") continue;
    ++continuous_rows;
    const double bid = l2_f["BidPrice1"][r], ask = l2_f["AskPrice1"][r];
    if (!std::isnan(bid) && !std::isnan(ask)) {
      EXPECT_LT(bid, ask) << "L2 row " << r;
    }
  }
  EXPECT_GT(continuous_rows, l2.rows() / 2);

  // Lit prints: on the grid, at the touch they hit, quoting the book of their event.
  auto mid_at = [&](int64_t listing, int64_t t) {
    const auto& m = mids[listing];
    auto it = std::upper_bound(m.begin(), m.end(), t, [](int64_t v, const auto& e) { return v < e.first; });
    return it == m.begin() ? kNullDouble : std::prev(it)->second;
  };
  const auto t_lid = tr.I64("ListingId"), t_ts = tr.I64("TradeTimestampNanoseconds"),
             t_us = tr.I64("TradeTimestamp"), aggressor = tr.I64("AggressorSide");
  const auto t_price = tr.F64("Price"), t_size = tr.F64("Size"), notional = tr.F64("TradeNotional"),
             bid = tr.F64("BestBidPrice"), ask = tr.F64("BestAskPrice"), pp = tr.F64("PricePoint"),
             pre1 = tr.F64("PreTradeMid1ms"), post = tr.F64("PostTradeMid"),
             post1s = tr.F64("PostTradeMid1000ms"), pre60s = tr.F64("PreTradeMid60000ms");
  const auto cls = tr.Str("Classification");
  std::map<int64_t, int64_t> lit_prints;
  for (int64_t i = 0; i < tr.rows(); ++i) {
    EXPECT_EQ(t_us[i], t_ts[i] / 1000 * 1000);
    EXPECT_TRUE(Same(notional[i], t_price[i] * t_size[i])) << "trade " << i;
    if (cls[i] != "LIT_CONTINUOUS") continue;
    ++lit_prints[t_lid[i]];
    const Listing* listing = nullptr;
    for (const auto& l : universe.listings()) {
      if (l.listing_id == t_lid[i]) listing = &l;
    }
    ASSERT_NE(listing, nullptr);
    const double ticks = t_price[i] / listing->tick.value();
    EXPECT_NEAR(ticks, std::round(ticks), 1e-6)
        << "trade " << i << " price " << t_price[i] << " off the grid";
    const auto before = pre_bbo.find({t_lid[i], t_ts[i]});
    ASSERT_NE(before, pre_bbo.end()) << "trade " << i << " has no L3 event";
    EXPECT_EQ(bid[i], before->second.first) << "trade " << i;
    EXPECT_EQ(ask[i], before->second.second) << "trade " << i;
    EXPECT_LE(bid[i], t_price[i]);
    EXPECT_LE(t_price[i], ask[i]);
    ASSERT_TRUE(aggressor[i] == 1 || aggressor[i] == 2);
    EXPECT_EQ(t_price[i], aggressor[i] == 1 ? ask[i] : bid[i])
        << "a buyer lifts the ask, a seller hits the bid";
    EXPECT_TRUE(Same(pp[i], (t_price[i] - bid[i]) / (ask[i] - bid[i])));
    EXPECT_TRUE(Same(pre1[i], mid_at(t_lid[i], t_ts[i] - kMsNs))) << "trade " << i;
    EXPECT_TRUE(Same(pre60s[i], mid_at(t_lid[i], t_ts[i] - 60'000 * kMsNs))) << "trade " << i;
    EXPECT_TRUE(Same(post[i], mid_at(t_lid[i], t_ts[i]))) << "trade " << i;
    EXPECT_TRUE(Same(post1s[i], mid_at(t_lid[i], t_ts[i] + 1'000 * kMsNs))) << "trade " << i;
  }
  EXPECT_EQ(lit_prints, continuous_fills) << "one lit print per continuous fill";
}

TEST(GenLake, SharesAndShapes) {
  TempDir dir("shapes");
  GenerateOptions o;
  o.out = dir.str();
  o.listings = 16;
  o.mics = {"XLON", "XPAR"};
  o.days = {kFriday};
  o.seed = 5;
  o.profile = Profile::kSmall;
  Generate(o);
  const Universe universe = Universe::Build(o.seed, o.listings, o.mics);

  int64_t l3_rows = 0, l2_rows = 0, prints = 0, off_book = 0, lit = 0, auction = 0;
  std::map<int64_t, int64_t> actions;
  for (const auto& mic : o.mics) {
    Columns l3(dir.str(), Table::kL3, kFriday, mic, {"LobAction"});
    for (int64_t a : l3.I64("LobAction")) ++actions[a];
    l3_rows += l3.rows();
    l2_rows += Columns(dir.str(), Table::kL2, kFriday, mic, {"ListingId"}).rows();

    Columns tr(dir.str(), Table::kTrades, kFriday, mic,
               {"AggressorSide", "Classification", "BMLLTradeType", "MarketState", "IsBlock", "LotType",
                "AlgorithmicTrade", "BMLLParticipantType", "NegotiatedTrade", "TradeNotional",
                "TradeNotionalEUR", "CurrencyCode"});
    const auto aggressor = tr.I64("AggressorSide");
    const auto cls = tr.Str("Classification"), type = tr.Str("BMLLTradeType"), state = tr.Str("MarketState"),
               block = tr.Str("IsBlock"), lot = tr.Str("LotType"), algo = tr.Str("AlgorithmicTrade"),
               participant = tr.Str("BMLLParticipantType"), negotiated = tr.Str("NegotiatedTrade"),
               currency = tr.Str("CurrencyCode");
    const auto notional = tr.F64("TradeNotional"), eur = tr.F64("TradeNotionalEUR");
    for (int64_t i = 0; i < tr.rows(); ++i) {
      ++prints;
      EXPECT_EQ(currency[i], mic == "XLON" ? "GBp" : "EUR");
      EXPECT_TRUE(Same(eur[i], notional[i] * (mic == "XLON" ? 0.011469 : 1.0)));
      EXPECT_TRUE(block[i] == "TRUE" || block[i] == "FALSE");
      EXPECT_TRUE(lot[i] == "ROUND" || lot[i] == "MIXED" || lot[i] == "ODD") << lot[i];
      EXPECT_TRUE(algo[i] == "H" || algo[i] == "-");
      EXPECT_TRUE(negotiated[i] == "Y" || negotiated[i] == "-");
      EXPECT_TRUE(participant[i] == "RETAIL" || participant[i] == "UNKNOWN");
      if (cls[i] == "LIT_CONTINUOUS") {
        ++lit;
        EXPECT_EQ(type[i], "LIT");
        EXPECT_EQ(state[i], "CONTINUOUS_TRADING");
        EXPECT_TRUE(aggressor[i] == 1 || aggressor[i] == 2);
      } else if (cls[i].find("AUCTION") != std::string::npos) {
        ++auction;
        EXPECT_EQ(type[i], "LIT");
        EXPECT_EQ(aggressor[i], 0);
        EXPECT_NE(state[i].find("AUCTION"), std::string::npos);
      } else {
        ++off_book;
        EXPECT_TRUE(cls[i] == "OFF_BOOK_ON_EXCHANGE" || cls[i] == "SI_ADDRESSABLE_BELOW_LIS") << cls[i];
        EXPECT_TRUE(type[i] == "OTC" || type[i] == "DARK") << type[i];
        EXPECT_EQ(aggressor[i], 0);
        EXPECT_EQ(state[i], "NOT_APPLICABLE");
      }
    }

    // Reference: one row per listing of the MIC; market states: a realistic session per listing.
    Columns ref(
        dir.str(), Table::kReference, kFriday, mic,
        {"ListingId", "InstrumentId", "CurrencyCode", "IsPrimary", "IsAlive", "Ticker", "ISIN", "Date"});
    EXPECT_EQ(ref.rows(), static_cast<int64_t>(universe.OnMic(mic).size()));
    for (const auto& c : ref.Str("CurrencyCode")) EXPECT_EQ(c, mic == "XLON" ? "GBp" : "EUR");
    for (int64_t d : ref.I64("Date")) EXPECT_EQ(d, kFriday.start_ns());
    Columns ms(dir.str(), Table::kMarketState, kFriday, mic, {"ListingId", "MarketState"});
    std::map<int64_t, std::vector<std::string>> states;
    const auto ms_lid = ms.I64("ListingId");
    const auto ms_state = ms.Str("MarketState");
    for (int64_t i = 0; i < ms.rows(); ++i) states[ms_lid[i]].push_back(ms_state[i]);
    EXPECT_EQ(states.size(), universe.OnMic(mic).size());
    for (const auto& [listing, seq] : states) {
      EXPECT_GE(seq.size(), 6u) << listing;
      EXPECT_LE(seq.size(), 10u) << listing;
      EXPECT_EQ(std::count(seq.begin(), seq.end(), "CONTINUOUS_TRADING"), 1) << listing;
      EXPECT_EQ(seq.back(), "CLOSED") << listing;
    }
  }
  // The model's promises (data-model.md, "Realistic shapes"), with room for randomness.
  const double n = static_cast<double>(l3_rows);
  EXPECT_NEAR(static_cast<double>(actions[2]) / n, 0.45, 0.05) << "inserts";
  EXPECT_NEAR(static_cast<double>(actions[3]) / n, 0.45, 0.05) << "removes";
  EXPECT_NEAR(static_cast<double>(actions[4]) / n, 0.10, 0.04) << "updates";
  EXPECT_NEAR(static_cast<double>(off_book) / static_cast<double>(prints), 0.30, 0.07) << "off-book prints";
  EXPECT_GT(auction, 0);
  EXPECT_GT(static_cast<double>(auction) / static_cast<double>(prints), 0.001);
  EXPECT_LT(static_cast<double>(auction) / static_cast<double>(prints), 0.10);
  EXPECT_NEAR(n / static_cast<double>(lit), 50, 20) << "L3 rows per lit print";
  EXPECT_NEAR(static_cast<double>(l2_rows) / static_cast<double>(lit), 20, 10) << "L2 rows per lit print";
}

}  // namespace
}  // namespace intraday::gen
