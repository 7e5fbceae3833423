#include "metrics/pass_schema.h"

#include <cctype>
#include <set>

#include <arrow/type.h>

namespace intraday {
std::shared_ptr<arrow::DataType> ArrowTypeOfValue(ValueType type) {
  switch (type) {
    case ValueType::kInt64: return arrow::int64();
    case ValueType::kFloat64: return arrow::float64();
    case ValueType::kString: return arrow::utf8();
  }
  return arrow::null();
}

Result<std::shared_ptr<arrow::Schema>> PassOutputSchema(const std::vector<std::unique_ptr<Module>>& modules) {
  arrow::FieldVector fields{arrow::field("ListingId", arrow::int64(), /*nullable=*/false),
                            arrow::field("TimeBucket", arrow::timestamp(arrow::TimeUnit::NANO), false)};
  std::set<std::string> taken{"ListingId", "TimeBucket"};
  for (const auto& module : modules) {
    for (const auto& column : module->outputs()) {
      std::string name = column.name;
      if (taken.count(name) != 0) {
        // Two modules may name a column alike (trade and l2 both have MarketState): the first in
        // config order keeps the name, later ones get their module's name in front.
        name = ModulePrefix(module->name()) + column.name;
        if (taken.count(name) != 0) {
          return Status::Invalid("output column '", column.name, "' of module ", module->name(),
                                 " clashes with another column even as '", name, "'");
        }
      }
      taken.insert(name);
      fields.push_back(arrow::field(name, ArrowTypeOfValue(column.type)));
    }
  }
  return arrow::schema(std::move(fields));
}

uint64_t OutputRowBytes(const arrow::Schema& schema) {
  uint64_t bits = 0;
  for (const auto& field : schema.fields()) {
    const auto* fixed = dynamic_cast<const arrow::FixedWidthType*>(field->type().get());
    bits += (fixed != nullptr ? static_cast<uint64_t>(fixed->bit_width()) : 16 * 8) + 1;
  }
  return (bits + 7) / 8;
}

std::string ModulePrefix(std::string_view module) {
  std::string out;
  bool upper = true;
  for (char c : module) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

}  // namespace intraday
