#include "plan/packing.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/units.h"

namespace intraday {
namespace {

// What packing places: one listing, or every listing of an instrument.
struct Unit {
  std::vector<const ListingSize*> members;  // sorted by ListingId
  int64_t instrument_id = 0;
  uint64_t memory = 0;
  uint64_t output = 0;           // of which output rows (ListingSize::output_bytes)
  std::vector<uint64_t> inputs;  // per member listing: its decoded input bytes
  std::array<int64_t, kTableCount> rows{};
  bool known = true;
};

std::vector<Unit> BuildUnits(std::span<const ListingSize> sizes, bool group_by_instrument) {
  std::vector<const ListingSize*> sorted;
  sorted.reserve(sizes.size());
  for (const auto& size : sizes) sorted.push_back(&size);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const ListingSize* a, const ListingSize* b) { return a->listing_id < b->listing_id; });
  std::vector<Unit> units;
  std::unordered_map<int64_t, size_t> unit_of_instrument;
  for (const ListingSize* size : sorted) {
    size_t index = units.size();
    // Walking in ListingId order, a group is created at its smallest ListingId: units come out
    // ordered by their smallest member.
    if (group_by_instrument && size->instrument_id != 0) {
      auto [it, inserted] = unit_of_instrument.emplace(size->instrument_id, units.size());
      index = it->second;
    }
    if (index == units.size())
      units.emplace_back().instrument_id = group_by_instrument ? size->instrument_id : 0;
    Unit& unit = units[index];
    unit.members.push_back(size);
    unit.memory += size->memory_bytes;
    unit.output += size->output_bytes;
    unit.inputs.push_back(size->decoded_bytes());
    for (size_t t = 0; t < kTableCount; ++t) unit.rows[t] += size->rows[t];
    unit.known = unit.known && size->estimated;
  }
  return units;
}

// The first capped table whose rows exceed its cap, if any.
std::optional<Table> OverCap(const std::array<int64_t, kTableCount>& rows, const PackOptions& options) {
  for (const auto& [table, cap] : options.max_rows_per_table) {
    if (rows[TableIndex(table)] > cap) return table;
  }
  return std::nullopt;
}

std::string Describe(const Unit& unit) {
  if (unit.members.size() == 1 && unit.instrument_id == 0) {
    return fmt::format("listing {}", unit.members.front()->listing_id);
  }
  if (unit.members.size() == 1) {
    return fmt::format("listing {} (instrument {})", unit.members.front()->listing_id, unit.instrument_id);
  }
  std::vector<int64_t> ids;
  for (const auto* m : unit.members) ids.push_back(m->listing_id);
  return fmt::format("instrument {} (listings {})", unit.instrument_id, fmt::join(ids, ", "));
}

/// The `threads` largest listing inputs of a batch (a spill reader's gather buffers), kept
/// sorted, largest first.
class GatherBuffers {
 public:
  explicit GatherBuffers(int threads) : threads_(static_cast<size_t>(std::max(0, threads))) {}

  /// The buffers' bytes with `unit`'s listings added.
  uint64_t BytesWith(const Unit& unit) const { return With(unit).Bytes(); }
  void Add(const Unit& unit) { *this = With(unit); }
  uint64_t Bytes() const {
    uint64_t bytes = 0;
    for (uint64_t b : largest_) bytes += b;
    return bytes;
  }

 private:
  GatherBuffers With(const Unit& unit) const {
    GatherBuffers out = *this;
    out.largest_.insert(out.largest_.end(), unit.inputs.begin(), unit.inputs.end());
    std::sort(out.largest_.begin(), out.largest_.end(), std::greater<>());
    if (out.largest_.size() > threads_) out.largest_.resize(threads_);
    return out;
  }

  size_t threads_;
  std::vector<uint64_t> largest_;
};

/// A unit's memory alone in a batch: its listings' memory and their gather buffers.
uint64_t MemoryAlone(const Unit& unit, const PackOptions& options) {
  return unit.memory + GatherBuffers(options.gather_threads).BytesWith(unit);
}

void Add(const Unit& unit, Batch* batch, GatherBuffers* gather) {
  for (const auto* m : unit.members) batch->listings.push_back(m->listing_id);
  const uint64_t before = gather->Bytes();
  gather->Add(unit);
  batch->memory_bytes += unit.memory + gather->Bytes() - before;
  for (size_t t = 0; t < kTableCount; ++t) batch->rows[t] += unit.rows[t];
}

}  // namespace

PackResult PackListings(std::span<const ListingSize> sizes, const PackOptions& options) {
  PackResult result;
  Batch current;
  GatherBuffers current_gather(options.gather_threads);
  auto close = [&](Batch* batch) {
    if (batch->listings.empty()) return;
    std::sort(batch->listings.begin(), batch->listings.end());
    batch->id = static_cast<int>(result.batches.size());
    result.batches.push_back(std::move(*batch));
    *batch = Batch{};
  };
  auto close_current = [&] {
    close(&current);
    current_gather = GatherBuffers(options.gather_threads);
  };

  for (const Unit& unit : BuildUnits(sizes, options.group_by_instrument)) {
    const uint64_t memory_alone = MemoryAlone(unit, options);
    const bool over_budget = memory_alone > options.memory_budget;
    const std::optional<Table> over_cap = OverCap(unit.rows, options);
    if (!unit.known || over_budget || over_cap) {
      close_current();
      Batch alone;
      GatherBuffers alone_gather(options.gather_threads);
      Add(unit, &alone, &alone_gather);
      alone.oversize = unit.known;
      // Time slices bound the input a worker holds, not its output rows: a listing over the
      // budget only with them is computed whole.
      const bool output_only = over_budget && memory_alone - unit.output <= options.memory_budget;
      alone.streamed =
          alone.oversize && alone.listings.size() == 1 && options.stream_blocker.empty() && !output_only;
      const int id = static_cast<int>(result.batches.size());
      const std::string consequence =
          alone.streamed ? "; it will be streamed over time in slices within the budget"
          : alone.listings.size() > 1
              ? "; its worker may exceed the budget (an instrument group is not streamed over time)"
          : output_only ? fmt::format(
                              "; its worker may exceed the budget (its output rows, an estimated {}, "
                              "are held whole; its input fits)",
                              FormatBytes(unit.output))
                        : "; its worker may exceed the budget (" + options.stream_blocker + ")";
      if (!unit.known) {
        result.warnings.push_back(fmt::format(
            "{} has no size estimate: planned alone in batch {}, never counted as zero", Describe(unit), id));
      } else if (over_budget) {
        result.warnings.push_back(fmt::format(
            "{} needs an estimated {} of worker memory, over the {} budget: planned alone in "
            "batch {} (oversize){}",
            Describe(unit), FormatBytes(memory_alone), FormatBytes(options.memory_budget), id, consequence));
      } else {
        const Table table = *over_cap;
        result.warnings.push_back(fmt::format(
            "{} has {} {} rows, over run.max_rows_per_table.{} = {}: planned alone in batch {} (oversize){}",
            Describe(unit), unit.rows[TableIndex(table)], SpecOf(table).key, SpecOf(table).key,
            options.max_rows_per_table.at(table), id, consequence));
      }
      close(&alone);
      continue;
    }
    if (!current.listings.empty()) {
      std::array<int64_t, kTableCount> rows = current.rows;
      for (size_t t = 0; t < kTableCount; ++t) rows[t] += unit.rows[t];
      const uint64_t memory =
          current.memory_bytes - current_gather.Bytes() + unit.memory + current_gather.BytesWith(unit);
      if (memory > options.memory_budget || OverCap(rows, options)) close_current();
    }
    Add(unit, &current, &current_gather);
  }
  close_current();
  return result;
}

}  // namespace intraday
