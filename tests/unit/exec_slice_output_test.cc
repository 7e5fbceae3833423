// A sliced day's output rows set aside between slices (SliceOutputs): merged listing by listing,
// each listing's slices in order, whatever the batches they came in and the batch size asked
// for; the same from files as from memory; the files gone once merged.
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

struct Row {
  int64_t listing;
  int64_t bucket;
};

/// Rows as the modules would give them: a value that names listing, bucket (null every 5th)
/// and a string column.
std::shared_ptr<arrow::RecordBatch> Batch(const std::vector<Row>& rows) {
  arrow::Int64Builder ids;
  arrow::TimestampBuilder times(arrow::timestamp(arrow::TimeUnit::NANO), arrow::default_memory_pool());
  arrow::DoubleBuilder values;
  arrow::StringBuilder states;
  for (const Row& r : rows) {
    EXPECT_TRUE(ids.Append(r.listing).ok());
    EXPECT_TRUE(times.Append(r.bucket).ok());
    EXPECT_TRUE(
        (r.bucket % 5 == 0 ? values.AppendNull() : values.Append(r.listing * 1000.0 + r.bucket)).ok());
    EXPECT_TRUE(states.Append("s" + std::to_string(r.bucket % 3)).ok());
  }
  return arrow::RecordBatch::Make(Schema(), static_cast<int64_t>(rows.size()),
                                  {ids.Finish().ValueOrDie(), times.Finish().ValueOrDie(),
                                   values.Finish().ValueOrDie(), states.Finish().ValueOrDie()});
}

/// Three slices of one chunk of three listings: per slice, per listing, its buckets (listing 1
/// has none in slice 1). Each slice's rows come in two batches cut across a listing.
const std::vector<std::vector<std::vector<int64_t>>> kBuckets = {
    {{0, 1, 2}, {0, 1}, {0}},
    {{3, 4}, {}, {1, 2, 3}},
    {{5}, {2, 3, 4, 5}, {4, 5}},
};
const std::vector<int64_t> kListings = {7, 8, 9};

void AddSlices(SliceOutputs& outputs, size_t chunk) {
  for (size_t s = 0; s < kBuckets.size(); ++s) {
    std::vector<Row> rows;
    std::vector<int64_t> listing_rows;
    for (size_t l = 0; l < kListings.size(); ++l) {
      for (int64_t b : kBuckets[s][l]) rows.push_back({kListings[l], b});
      listing_rows.push_back(static_cast<int64_t>(kBuckets[s][l].size()));
    }
    const size_t cut = rows.size() / 2;
    const arrow::RecordBatchVector batches = {Batch({rows.begin(), rows.begin() + static_cast<long>(cut)}),
                                              Batch({rows.begin() + static_cast<long>(cut), rows.end()})};
    ASSERT_TRUE(outputs.Add(chunk, listing_rows, batches, s + 1 == kBuckets.size()).ok());
  }
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

void ExpectMerged(const arrow::RecordBatchVector& merged, int64_t batch_rows) {
  for (const auto& batch : merged) EXPECT_LE(batch->num_rows(), batch_rows);
  auto table = arrow::Table::FromRecordBatches(Schema(), merged).ValueOrDie();
  EXPECT_TRUE(table->Equals(*Expected())) << table->ToString();
}

TEST(SliceOutputs, MergesListingByListingFromMemory) {
  auto outputs = SliceOutputs::Open("", Schema(), 2).ValueOrDie();
  AddSlices(*outputs, 1);
  // Batches of 3, 4 and 7 rows start and end at other bit offsets of the validity bitmaps (values
  // and nulls are copied as bits: MergedColumn), 1000 takes every row.
  for (int64_t batch_rows : {4, 3, 7, 1000}) {
    if (batch_rows != 4) AddSlices(*outputs, 1);  // merged already: the chunk starts again
    auto merged = outputs->Merge(1, batch_rows);
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    ExpectMerged(*merged, batch_rows);
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
    EXPECT_TRUE(std::filesystem::exists(dir + "/chunk-00000.arrow"));
    auto merged = outputs->Merge(0, 5);
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    ExpectMerged(*merged, 5);
    EXPECT_FALSE(std::filesystem::exists(dir + "/chunk-00000.arrow"));
    EXPECT_GT(outputs->spilled_bytes(), 0);
    EXPECT_TRUE(std::filesystem::exists(dir + "/chunk-00002.arrow"));  // never merged (an error)
  }
  EXPECT_FALSE(std::filesystem::exists(dir));  // removed with what was left in it
}

TEST(SliceOutputs, RefusesRowsThatDoNotMatchTheirListings) {
  auto outputs = SliceOutputs::Open("", Schema(), 1).ValueOrDie();
  ASSERT_TRUE(outputs->Add(0, {2, 1}, {Batch({{7, 0}, {7, 1}})}).ok());  // 2 rows, 3 listed
  auto merged = outputs->Merge(0, 10);
  ASSERT_FALSE(merged.ok());
  EXPECT_NE(merged.status().message().find("its listings 3"), std::string::npos)
      << merged.status().ToString();
  ASSERT_TRUE(outputs->Add(0, {1}, {Batch({{7, 0}})}).ok());  // the chunk anew after the failed merge
  const Status changed = outputs->Add(0, {1, 0}, {Batch({{7, 1}})});
  EXPECT_NE(changed.message().find("changes its listings"), std::string::npos) << changed.ToString();
}

}  // namespace
}  // namespace intraday
