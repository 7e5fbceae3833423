// The vendor schemas the generator writes: for each table the column names, their order and
// their Arrow types (timestamp units included), exactly as in the vendor's sample files
// (fixtures/sample-day). The unit test gen_schema_test compares them with those files.
#pragma once

#include <memory>

#include <arrow/type_fwd.h>

#include "io/table_catalog.h"

namespace intraday::gen {

/// The vendor schema of a table (every field nullable, timestamps naive UTC).
const std::shared_ptr<arrow::Schema>& VendorSchema(Table table);

}  // namespace intraday::gen
