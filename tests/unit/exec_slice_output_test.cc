// A sliced day's output rows set aside between slices (SliceOutputs): merged listing by listing,
// each listing's slices in order, whatever order the listings came in, in batches of the rows
// asked for; the same from files as from memory; the files gone once merged.
#include <filesystem>
#include <string>
#include <vector>

#include <arrow/builder.h>
#include <arrow/record_batch.h>
#include <arrow/table.h>
#include <gtest/gtest.h>

#include "exec/slice_output.h"
#include "test_support.h"

namespace intraday {
namespace {

std::shared_ptr<arrow::Schema> Schema() {
  return arrow::schema({arrow::field("ListingId", arrow::int64(), false),
                        arrow::field("TimeBucket", arrow::timestamp(arrow::TimeUnit::NANO), false),
                        arrow::field("Value", arrow::float64()), arrow::field("State", arrow::utf8())});
}

const std::vector<OutputColumn> kColumns{{"Value", ValueType::kFloat64, "", ""},
                                         {"State", ValueType::kString, "", ""}};

struct Row {
  int64_t listing;
  int64_t bucket;
};

/// A listing's rows of a slice as a module would give them: a value that names listing and
/// bucket (null every 5th bucket) and a state (empty, and null, every 4th).
std::vector<OutputBlock> Blocks(int64_t listing, const std::vector<int64_t>& buckets) {
  std::vector<OutputBlock> blocks;
  blocks.emplace_back(kColumns, buckets.size());
  for (size_t r = 0; r < buckets.size(); ++r) {
    const int64_t b = buckets[r];
    if (b % 5 != 0)
      blocks[0].SetFloat64(0, r, static_cast<double>(listing) * 1000.0 + static_cast<double>(b));
    if (b % 4 != 0) blocks[0].SetString(1, r, b % 3 == 0 ? "" : "s" + std::to_string(b % 3));
  }
  return blocks;
}

/// The same rows as Arrow builders make them.
std::shared_ptr<arrow::RecordBatch> Batch(const std::vector<Row>& rows) {
  arrow::Int64Builder ids;
  arrow::TimestampBuilder times(arrow::timestamp(arrow::TimeUnit::NANO), arrow::default_memory_pool());
  arrow::DoubleBuilder values;
  arrow::StringBuilder states;
  for (const Row& r : rows) {
    EXPECT_TRUE(ids.Append(r.listing).ok());
    EXPECT_TRUE(times.Append(r.bucket).ok());
    EXPECT_TRUE((r.bucket % 5 == 0
                     ? values.AppendNull()
                     : values.Append(static_cast<double>(r.listing) * 1000.0 + static_cast<double>(r.bucket)))
                    .ok());
    EXPECT_TRUE((r.bucket % 4 == 0
                     ? states.AppendNull()
                     : states.Append(r.bucket % 3 == 0 ? "" : "s" + std::to_string(r.bucket % 3)))
                    .ok());
  }
  return arrow::RecordBatch::Make(Schema(), static_cast<int64_t>(rows.size()),
                                  {ids.Finish().ValueOrDie(), times.Finish().ValueOrDie(),
                                   values.Finish().ValueOrDie(), states.Finish().ValueOrDie()});
}

/// Three slices of one chunk of three listings: per slice, per listing, its buckets (listing 8
/// has none in slice 1). Within a slice the listings come in another order than their ids'.
const std::vector<std::vector<std::vector<int64_t>>> kBuckets = {
    {{0, 1, 2}, {0, 1}, {0}},
    {{3, 4}, {}, {1, 2, 3}},
    {{5, 6, 7, 8, 9, 10}, {2, 3, 4, 5}, {4, 5}},
};
const std::vector<int64_t> kListings = {7, 8, 9};
const std::vector<size_t> kAddOrder = {2, 0, 1};

/// The last slice kept in memory, as a day's last slice is.
void AddSlices(SliceOutputs& outputs, size_t chunk) {
  for (size_t s = 0; s < kBuckets.size(); ++s) {
    for (size_t l : kAddOrder) {
      const Status added = outputs.Add(chunk, kListings[l], kBuckets[s][l],
                                       Blocks(kListings[l], kBuckets[s][l]), s + 1 == kBuckets.size());
      ASSERT_TRUE(added.ok()) << added.ToString();
    }
  }
}

int64_t AddedRows() {
  int64_t rows = 0;
  for (const auto& slice : kBuckets) {
    for (const auto& buckets : slice) rows += static_cast<int64_t>(buckets.size());
  }
  return rows;
}

std::shared_ptr<arrow::Table> Expected() {
  std::vector<Row> rows;
  for (size_t l = 0; l < kListings.size(); ++l) {
    for (const auto& slice : kBuckets) {
      for (int64_t b : slice[l]) rows.push_back({kListings[l], b});
    }
  }
  return arrow::Table::FromRecordBatches(Schema(), {Batch(rows)}).ValueOrDie();
}

void ExpectMerged(const arrow::RecordBatchVector& merged, int64_t batch_rows, int64_t first_batch_rows) {
  int64_t rows = 0;
  for (size_t i = 0; i < merged.size(); ++i) {
    const int64_t asked = i == 0 && first_batch_rows > 0 ? first_batch_rows : batch_rows;
    if (i + 1 < merged.size()) {
      EXPECT_EQ(merged[i]->num_rows(), asked) << i;
    }
    EXPECT_LE(merged[i]->num_rows(), asked) << i;
    EXPECT_TRUE(merged[i]->ValidateFull().ok()) << merged[i]->ValidateFull().ToString();
    rows += merged[i]->num_rows();
  }
  EXPECT_EQ(rows, AddedRows());
  auto table = arrow::Table::FromRecordBatches(Schema(), merged).ValueOrDie();
  EXPECT_TRUE(table->Equals(*Expected())) << table->ToString();
}

TEST(SliceOutputs, MergesListingByListingFromMemory) {
  auto outputs = SliceOutputs::Open("", Schema(), 2).ValueOrDie();
  // Batches of 3, 4 and 7 rows start and end at other bit offsets of the validity bitmaps (values
  // and nulls are copied as bits), 1000 takes every row; a first batch of 2 or 5 rows.
  for (const auto& [batch_rows, first_batch_rows] :
       std::vector<std::pair<int64_t, int64_t>>{{4, 0}, {3, 2}, {7, 5}, {1000, 0}, {1000, 5}}) {
    AddSlices(*outputs, 1);
    EXPECT_EQ(outputs->rows(1), AddedRows());
    auto merged = outputs->Merge(1, batch_rows, first_batch_rows);
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    ExpectMerged(*merged, batch_rows, first_batch_rows);
    EXPECT_EQ(outputs->rows(1), 0);  // merged: the chunk starts again
  }
  EXPECT_EQ(outputs->spilled_bytes(), 0);
  auto empty = outputs->Merge(0, 10);  // a chunk with nothing added
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(SliceOutputs, MergesTheSameFromFilesAndDeletesThem) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/task.arrow.slices";
  {
    auto outputs = SliceOutputs::Open(dir, Schema(), 3).ValueOrDie();
    AddSlices(*outputs, 0);
    AddSlices(*outputs, 2);
    EXPECT_TRUE(std::filesystem::exists(dir + "/chunk-00000.rows"));
    auto merged = outputs->Merge(0, 5, 3);
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    ExpectMerged(*merged, 5, 3);
    EXPECT_FALSE(std::filesystem::exists(dir + "/chunk-00000.rows"));
    EXPECT_GT(outputs->spilled_bytes(), 0);
    EXPECT_TRUE(std::filesystem::exists(dir + "/chunk-00002.rows"));  // never merged (an error)
  }
  EXPECT_FALSE(std::filesystem::exists(dir));  // removed with what was left in it
}

TEST(SliceOutputs, RefusesBlocksThatDoNotMatchTheirLabelsOrTheSchema) {
  auto outputs = SliceOutputs::Open("", Schema(), 1).ValueOrDie();
  const std::vector<int64_t> labels = {0, 1, 2};
  const Status short_block = outputs->Add(0, 7, labels, Blocks(7, {0, 1}));
  EXPECT_NE(short_block.message().find("produced 2 rows for 3 buckets of listing 7"), std::string::npos)
      << short_block.ToString();
  std::vector<OutputBlock> one_column;
  one_column.emplace_back(std::span<const OutputColumn>(kColumns).first(1), labels.size());
  const Status narrow = outputs->Add(0, 7, labels, std::move(one_column));
  EXPECT_NE(narrow.message().find("produced 3 columns"), std::string::npos) << narrow.ToString();
  EXPECT_EQ(outputs->rows(0), 0);  // nothing of either kept
}

}  // namespace
}  // namespace intraday
