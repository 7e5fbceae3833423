#include "gen/lake_generator.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <queue>
#include <thread>

#include <fmt/format.h>

#include "gen/listing_simulator.h"
#include "gen/universe.h"

namespace intraday::gen {
namespace {

struct Task {
  size_t day_index;
  const VenueInfo* venue;
};

SimulatorConfig ConfigFor(const GenerateOptions& options, const Universe& universe, const Listing* listing,
                          uint32_t file_index, Date day) {
  SimulatorConfig c;
  c.listing = listing;
  c.primary = &universe.listings()[listing->primary_index];
  c.file_index = file_index;
  c.day = day;
  c.seed = options.seed;
  c.mean_events = options.EffectiveMeanEvents();
  return c;
}

// Time layout: all listings advance together, always the one with the earliest next event, so
// rows reach the buffers in event-time order across listings. Trades and CBBO rows wait in the
// simulators until final; a queue of tokens (one per created row, in creation order, which is
// time order) says whose row comes out next.
Status RunTimeLayout(const GenerateOptions& options, const Universe& universe, Date day,
                     const std::vector<const Listing*>& listings, MicDayWriter& writer) {
  std::vector<std::unique_ptr<ListingSimulator>> sims;
  using Entry = std::pair<int64_t, uint32_t>;  // (next time, simulator); ties by file order
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  for (uint32_t i = 0; i < listings.size(); ++i) {
    sims.push_back(std::make_unique<ListingSimulator>(ConfigFor(options, universe, listings[i], i, day)));
    if (!sims.back()->done()) heap.emplace(sims.back()->next_time(), i);
  }
  std::deque<uint32_t> trade_tokens, cbbo_tokens;
  RowBuffers& out = writer.buffers();
  auto drain = [&](int64_t now) {
    while (!trade_tokens.empty() && sims[trade_tokens.front()]->TryPopTrade(now, out.trades)) {
      trade_tokens.pop_front();
    }
    while (!cbbo_tokens.empty() && sims[cbbo_tokens.front()]->TryPopCbbo(now, out.cbbo))
      cbbo_tokens.pop_front();
  };
  while (!heap.empty()) {
    const auto [t, i] = heap.top();
    heap.pop();
    drain(t);  // every event before t, of every listing, is processed
    ListingSimulator& sim = *sims[i];
    sim.Step(out);
    trade_tokens.insert(trade_tokens.end(), static_cast<size_t>(sim.created_trades()), i);
    cbbo_tokens.insert(cbbo_tokens.end(), static_cast<size_t>(sim.created_cbbo()), i);
    if (!sim.done()) heap.emplace(sim.next_time(), i);
    INTRADAY_RETURN_NOT_OK(writer.Flush());
  }
  drain(ListingSimulator::kNever);
  if (!trade_tokens.empty() || !cbbo_tokens.empty())
    return Status::UnknownError("generator: rows left behind");
  return Status::OK();
}

// Listing layout: one listing at a time, start to end, then the next (ascending ListingId).
Status RunListingLayout(const GenerateOptions& options, const Universe& universe, Date day,
                        const std::vector<const Listing*>& listings, MicDayWriter& writer) {
  RowBuffers& out = writer.buffers();
  for (uint32_t i = 0; i < listings.size(); ++i) {
    ListingSimulator sim(ConfigFor(options, universe, listings[i], i, day));
    while (!sim.done()) {
      sim.Step(out);
      const int64_t now = sim.next_time();  // kNever at the end: everything becomes final
      while (sim.TryPopTrade(now, out.trades)) {
      }
      while (sim.TryPopCbbo(now, out.cbbo)) {
      }
      INTRADAY_RETURN_NOT_OK(writer.Flush());
    }
    if (sim.has_pending()) return Status::UnknownError("generator: rows left behind");
    INTRADAY_RETURN_NOT_OK(writer.EndListing());
  }
  return Status::OK();
}

Result<TableCounts> GenerateMicDay(const GenerateOptions& options, const FileSystemRoot& root,
                                   const Universe& universe, Date day, const VenueInfo& venue) {
  std::vector<const Listing*> listings = universe.OnMic(venue.mic);
  INTRADAY_ASSIGN_OR_RAISE(auto writer, MicDayWriter::Open(options, root, day, venue, listings));
  if (options.layout == Layout::kTime) {
    INTRADAY_RETURN_NOT_OK(RunTimeLayout(options, universe, day, listings, *writer));
  } else {
    INTRADAY_RETURN_NOT_OK(RunListingLayout(options, universe, day, listings, *writer));
  }
  INTRADAY_RETURN_NOT_OK(writer->Finish());
  return writer->counts();
}

}  // namespace

std::string FormatCounts(const TableCounts& counts, const std::vector<Table>& tables) {
  std::string out;
  for (Table t : tables) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", SpecOf(t).key, counts[t]);
  }
  return out;
}

Result<GenerateReport> GenerateLake(const GenerateOptions& options, const DayCallback& on_day) {
  INTRADAY_RETURN_NOT_OK(options.Validate());
  const auto started = std::chrono::steady_clock::now();
  INTRADAY_ASSIGN_OR_RAISE(FileSystemRoot root, OpenFileSystemRoot(options.out, options.s3));
  const Universe universe = Universe::Build(options.seed, options.listings, options.mics);

  std::vector<Task> tasks;
  std::vector<int> tasks_left(options.days.size(), 0);
  for (size_t d = 0; d < options.days.size(); ++d) {
    for (const auto& mic : options.mics) {
      const VenueInfo* venue = *FindVenue(mic);
      if (universe.OnMic(mic).empty()) continue;  // no listing there: no files
      tasks.push_back({d, venue});
      ++tasks_left[d];
    }
  }

  GenerateReport report;
  report.days.resize(options.days.size());
  for (size_t d = 0; d < options.days.size(); ++d) report.days[d].day = options.days[d];

  std::mutex mutex;
  Status failure;
  size_t next_to_report = 0;
  std::atomic<size_t> next_task{0};
  std::atomic<bool> failed{false};
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  auto worker = [&] {
    while (!failed.load()) {
      const size_t k = next_task.fetch_add(1);
      if (k >= tasks.size()) return;
      const Task& task = tasks[k];
      auto counts = GenerateMicDay(options, root, universe, options.days[task.day_index], *task.venue);
      std::lock_guard<std::mutex> lock(mutex);
      if (!counts.ok()) {
        if (failure.ok()) failure = counts.status();
        failed = true;
        return;
      }
      report.days[task.day_index].counts += *counts;
      if (--tasks_left[task.day_index] == 0) report.days[task.day_index].seconds = elapsed();
      // Days are reported in order, each as soon as it and all before it are complete.
      while (next_to_report < report.days.size() && tasks_left[next_to_report] == 0) {
        if (on_day) on_day(report.days[next_to_report]);
        ++next_to_report;
      }
    }
  };

  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const size_t n_threads =
      std::min<size_t>(tasks.size(), options.threads > 0 ? static_cast<size_t>(options.threads) : hw);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n_threads; ++i) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  INTRADAY_RETURN_NOT_OK(failure);

  for (const auto& d : report.days) report.total += d.counts;
  report.seconds = elapsed();
  return report;
}

}  // namespace intraday::gen
