// io/: the vendor lake (layout, path templates, local and S3 filesystems) and the Parquet
// reading layer (projection, row-group streaming, timestamp normalisation, schema checks).
// It knows tables and columns, nothing of metrics or processes.
//
// This header is the catalogue of the vendor tables (data-model.md): folder, file prefix,
// event-time column, and the types of the columns the engine relies on.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace intraday {

enum class Table { kTrades, kL2, kL3, kMarketState, kReference, kCbbo, kImbalance };

/// The kind of a column as the engine sees it after reading. Files may store a narrower or
/// differently-encoded type (int32 for int64, dictionary for string, ms timestamps); the reader
/// converts those and rejects anything else with an error naming the file and the column.
enum class ColumnKind { kInt64, kInt32, kFloat64, kString, kBool, kTimestamp };

struct ColumnSpec {
  std::string_view name;
  ColumnKind kind;
};

struct TableSpec {
  Table table;
  std::string_view key;          // config name: "trades"
  std::string_view vendor_name;  // "trades-plus"
  std::string_view folder;       // "Trades-Plus"
  std::string_view prefix;       // "trades-plus-"
  std::string_view event_time_column;
  std::span<const ColumnSpec> known_columns;  // the columns whose type the engine relies on
};

std::span<const TableSpec> AllTables();
const TableSpec& SpecOf(Table table);
/// "trades", "l2", ... Error lists the valid keys.
Result<Table> TableFromKey(std::string_view key);

/// The known type of a column of a table, if the catalogue has one.
std::optional<ColumnKind> KnownColumnKind(Table table, std::string_view column);
std::string_view ColumnKindName(ColumnKind kind);

/// Default path template relative to the lake root:
/// "{Folder}/{MIC}/{YYYY}/{MM}/{DD}/{prefix}{MIC}-{YYYYMMDD}.parquet" with Folder and prefix
/// filled in, e.g. "Trades-Plus/{MIC}/{YYYY}/{MM}/{DD}/trades-plus-{MIC}-{YYYYMMDD}.parquet".
std::string DefaultPathTemplate(Table table);

/// Name of the derived trades column: TradeNotional / Size (data-model.md).
inline constexpr std::string_view kLocalPriceColumn = "LocalPrice";

}  // namespace intraday
