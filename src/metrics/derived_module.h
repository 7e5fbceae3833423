// The modules of later passes (metrics.md, "Pass 2+"): they read the output of an earlier pass
// instead of the lake. Like the event modules (module.h) they know nothing of files, batches or
// processes: the engine hands them the source rows of whole groups of listings, plus the
// universe columns they asked for, and writes the table they return.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <arrow/table.h>
#include <arrow/type.h>

#include "common/date.h"
#include "common/status.h"
#include "metrics/module.h"
#include "metrics/time_grid.h"

namespace intraday {

/// The universe columns every listing has (from the reference table or the universe file), with
/// their types. Other names are looked up among the extra columns of `universe.file` and of a
/// module's attribute file (strings, or int64 for integer columns of an attribute file).
struct UniverseColumnType {
  std::string_view name;
  const std::shared_ptr<arrow::DataType>& (*type)();
};
std::span<const UniverseColumnType> StandardUniverseColumns();
/// The type of a standard universe column, nullptr for other names.
std::shared_ptr<arrow::DataType> StandardUniverseColumnType(std::string_view name);

/// The universe table schema a module gets as far as the config tells: ListingId, then its
/// universe columns, standard ones with their types and any other as text (the engine's real
/// table may type an attribute-file column int64).
std::shared_ptr<arrow::Schema> ConfiguredUniverseSchema(const std::vector<std::string>& universe_columns);

/// A table keyed by ListingId that a module reads listing attributes from (reaggregate's group
/// map): `path` as written in the config (relative to the config file's directory).
struct AttributeFile {
  std::string path;
  std::vector<std::string> columns;
};

/// What a later pass's module computes from.
struct DerivedInput {
  Date day;
  /// The source rows of the batch's listings, one table per day: the history days (oldest
  /// first), then `day` last. Each is sorted by (ListingId, TimeBucket).
  std::vector<std::shared_ptr<arrow::Table>> days;
  /// One row per listing of the batch: ListingId, then the module's universe_columns() other than
  /// ListingId.
  std::shared_ptr<arrow::Table> universe;
};

/// The settings a later pass's module is created with.
struct DerivedContext {
  std::string source_pass;
  TimeGrid grid;         // the module's own pass
  TimeGrid source_grid;  // the pass it reads
  bool source_daily = false;
  std::shared_ptr<arrow::Schema> source_schema;
  /// Descriptions of the source columns (unit, type) when the source is a pass of event modules;
  /// empty when it is itself a later pass.
  std::vector<OutputColumn> source_columns;
};

class DerivedModule {
 public:
  virtual ~DerivedModule() = default;
  virtual std::string_view name() const = 0;
  /// Universe columns whose listings are computed together; output rows are sorted by them, then
  /// TimeBucket. {"ListingId"} for per-listing output.
  virtual const std::vector<std::string>& group_keys() const = 0;
  /// Universe columns the module reads: the group keys, then any others (joined columns).
  virtual const std::vector<std::string>& universe_columns() const = 0;
  virtual std::optional<AttributeFile> attribute_file() const { return std::nullopt; }
  /// How many trading days before the day the module needs (indicator warm-up across days).
  virtual int history_days() const { return 0; }
  /// The source columns the module reads (ListingId and TimeBucket included).
  virtual std::vector<std::string> source_columns() const = 0;
  /// The output schema, given the types of the universe columns (`universe`: ListingId, then
  /// universe_columns()).
  virtual Result<std::shared_ptr<arrow::Schema>> OutputSchema(const arrow::Schema& universe) const = 0;
  /// The output rows of input.day, sorted by group keys then TimeBucket. Deterministic; no state
  /// between calls.
  virtual Result<std::shared_ptr<arrow::Table>> Compute(const DerivedInput& input) const = 0;
};

/// Listings grouped by equal values of `keys` (columns of a universe table with a ListingId
/// column), groups numbered in key order: ascending, numbers and strings compared by value,
/// false before true. A listing with a null key value belongs to no group.
struct ListingGroups {
  std::unordered_map<int64_t, int> group_of;
  std::vector<int64_t> key_row;   // per group: a universe row holding its key values
  std::vector<int64_t> excluded;  // listings with a null key value, sorted
  int size() const { return static_cast<int>(key_row.size()); }
};
Result<ListingGroups> GroupListings(const arrow::Table& universe, std::span<const std::string> keys);

/// The label of the coarse bucket (grid `to`) holding the source bucket `label` (grid `from`):
/// the one whose interval contains the source bucket's interval. `to.length()` must be a
/// multiple of `from.length()`.
int64_t ResampleLabel(int64_t label, const TimeGrid& from, const TimeGrid& to);

}  // namespace intraday
