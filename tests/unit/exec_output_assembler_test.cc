// The assembly of per-listing blocks into record batches: rows, values and nulls kept, batches of
// exactly the rows asked for (a listing cut where one is full), blocks that do not match the
// schema refused whole.
#include <arrow/array.h>
#include <arrow/record_batch.h>
#include <gtest/gtest.h>

#include "exec/output_schema.h"

namespace intraday {
namespace {

const std::vector<OutputColumn> kAssemblerColumns{
    {"X", ValueType::kFloat64, "", ""}, {"N", ValueType::kInt64, "", ""}, {"S", ValueType::kString, "", ""}};

std::shared_ptr<arrow::Schema> AssemblerSchema() {
  return arrow::schema({arrow::field("ListingId", arrow::int64(), false),
                        arrow::field("TimeBucket", arrow::timestamp(arrow::TimeUnit::NANO), false),
                        arrow::field("X", arrow::float64()), arrow::field("N", arrow::int64()),
                        arrow::field("S", arrow::utf8())});
}

TEST(OutputAssembler, KeepsRowsAndCutsBatchesOfTheRowsAskedFor) {
  constexpr int64_t kBatchRows = 1000;
  constexpr int64_t kFirstBatchRows = 100;
  constexpr int64_t kListings = 12;
  constexpr int64_t kRows = 300;  // per listing: batches of 100, 1000, 1000, 1000 and 500 rows
  OutputAssembler assembler(AssemblerSchema(), kBatchRows, kFirstBatchRows);
  std::vector<int64_t> labels(kRows);
  for (int64_t r = 0; r < kRows; ++r) labels[static_cast<size_t>(r)] = 60 * r;
  // X is null every 5th row but in listings 1-3 (its bitmap made at the first null, in the second
  // batch); N is never null (no bitmap).
  auto x_null = [](int64_t id, int64_t r) { return id > 3 && r % 5 == 0; };
  for (int64_t id = 1; id <= kListings; ++id) {
    std::vector<OutputBlock> blocks;
    blocks.emplace_back(kAssemblerColumns, static_cast<size_t>(kRows));
    for (size_t r = 0; r < static_cast<size_t>(kRows); ++r) {
      if (!x_null(id, static_cast<int64_t>(r)))
        blocks[0].SetFloat64(0, r, static_cast<double>(id) + static_cast<double>(r) / 4);
      blocks[0].SetInt64(1, r, id * 1000 + static_cast<int64_t>(r));
      if (r % 3 == 0) blocks[0].SetString(2, r, "s" + std::to_string(r));
    }
    ASSERT_TRUE(assembler.Append(id, labels, blocks).ok());
  }
  auto batches = assembler.Finish();
  ASSERT_TRUE(batches.ok()) << batches.status().ToString();
  std::vector<int64_t> sizes;
  for (const auto& batch : *batches) sizes.push_back(batch->num_rows());
  EXPECT_EQ(sizes, (std::vector<int64_t>{100, 1000, 1000, 1000, 500}));
  int64_t row = 0;  // of the whole output
  for (const auto& batch : *batches) {
    ASSERT_TRUE(batch->ValidateFull().ok()) << batch->ValidateFull().ToString();
    const auto& ids = static_cast<const arrow::Int64Array&>(*batch->column(0));
    const std::shared_ptr<arrow::Array> time_values = batch->column(1)->View(arrow::int64()).ValueOrDie();
    const auto& times = static_cast<const arrow::Int64Array&>(*time_values);
    const auto& x = static_cast<const arrow::DoubleArray&>(*batch->column(2));
    const auto& n = static_cast<const arrow::Int64Array&>(*batch->column(3));
    const auto& s = static_cast<const arrow::StringArray&>(*batch->column(4));
    EXPECT_EQ(n.null_bitmap(), nullptr);
    EXPECT_EQ(x.null_bitmap() == nullptr, row + batch->num_rows() <= 3 * kRows);
    for (int64_t i = 0; i < batch->num_rows(); ++i, ++row) {
      const int64_t id = row / kRows + 1;
      const int64_t r = row % kRows;
      ASSERT_EQ(ids.Value(i), id);
      ASSERT_EQ(times.Value(i), 60 * r);
      ASSERT_EQ(x.IsNull(i), x_null(id, r)) << row;
      if (!x.IsNull(i)) {
        ASSERT_EQ(x.Value(i), static_cast<double>(id) + static_cast<double>(r) / 4);
      }
      ASSERT_EQ(n.Value(i), id * 1000 + r);
      ASSERT_EQ(s.IsNull(i), r % 3 != 0);
      if (!s.IsNull(i)) {
        ASSERT_EQ(s.GetString(i), "s" + std::to_string(r));
      }
    }
  }
  EXPECT_EQ(row, kListings * kRows);
}

TEST(OutputAssembler, RefusesBlocksThatDoNotMatchTheSchema) {
  OutputAssembler assembler(AssemblerSchema());
  const std::vector<int64_t> labels{60, 120};
  std::vector<OutputBlock> blocks;
  blocks.emplace_back(std::span<const OutputColumn>(kAssemblerColumns).first(2), labels.size());
  const Status status = assembler.Append(1, labels, blocks);
  ASSERT_TRUE(status.IsInvalid());
  EXPECT_NE(status.message().find("modules produced 4 columns, schema has 5"), std::string::npos)
      << status.ToString();
  // Nothing of the refused listing is kept: the next listing's rows line up in every column.
  std::vector<OutputBlock> good;
  good.emplace_back(kAssemblerColumns, labels.size());
  good[0].SetInt64(1, 0, 7);
  ASSERT_TRUE(assembler.Append(2, labels, good).ok());
  auto batches = assembler.Finish();
  ASSERT_TRUE(batches.ok());
  ASSERT_EQ(batches->size(), 1u);
  const auto& batch = *(*batches)[0];
  EXPECT_TRUE(batch.ValidateFull().ok()) << batch.ValidateFull().ToString();
  ASSERT_EQ(batch.num_rows(), 2);
  EXPECT_EQ(static_cast<const arrow::Int64Array&>(*batch.column(0)).Value(0), 2);
  EXPECT_EQ(static_cast<const arrow::Int64Array&>(*batch.column(3)).Value(0), 7);
}

}  // namespace
}  // namespace intraday
