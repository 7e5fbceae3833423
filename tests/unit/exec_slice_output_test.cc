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
constexpr int64_t kChunkIdStep = 10;  // chunk c holds listings 7, 8, 9 plus 10 c

/// The last slice kept in memory, as a day's last slice is.
void AddSlices(SliceOutputs& outputs, size_t chunk) {
  const int64_t step = kChunkIdStep * static_cast<int64_t>(chunk);
  for (size_t s = 0; s < kBuckets.size(); ++s) {
    for (size_t l : kAddOrder) {
      const int64_t id = kListings[l] + step;
      const Status added =
          outputs.Add(chunk, id, kBuckets[s][l], Blocks(id, kBuckets[s][l]), s + 1 == kBuckets.size());
      ASSERT_TRUE(added.ok()) << added.ToString();
    }
  }
}

int64_t ChunkRows() {
  int64_t rows = 0;
  for (const auto& slice : kBuckets) {
    for (const auto& buckets : slice) rows += static_cast<int64_t>(buckets.size());
  }
  return rows;
}

/// The rows of chunks 0 .. chunks - 1, as the output holds them.
std::shared_ptr<arrow::Table> Expected(size_t chunks) {
  std::vector<Row> rows;
  for (size_t c = 0; c < chunks; ++c) {
    for (size_t l = 0; l < kListings.size(); ++l) {
      for (const auto& slice : kBuckets) {
        for (int64_t b : slice[l]) rows.push_back({kListings[l] + kChunkIdStep * static_cast<int64_t>(c), b});
      }
    }
  }
  return arrow::Table::FromRecordBatches(Schema(), {Batch(rows)}).ValueOrDie();
}

/// Every row merged in pieces of `piece` rows (pieces across listings, slices and chunks).
void ExpectMerged(const SliceOutputs& outputs, size_t chunks, int64_t piece) {
  ASSERT_EQ(outputs.rows(), ChunkRows() * static_cast<int64_t>(chunks));
  arrow::RecordBatchVector merged;
  for (int64_t first = 0; first < outputs.rows(); first += piece) {
    auto rows = outputs.MergeRows(first, std::min(piece, outputs.rows() - first));
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ((*rows)->num_rows(), std::min(piece, outputs.rows() - first));
    EXPECT_TRUE((*rows)->ValidateFull().ok()) << (*rows)->ValidateFull().ToString();
    merged.push_back(*rows);
  }
  auto table = arrow::Table::FromRecordBatches(Schema(), merged).ValueOrDie();
  EXPECT_TRUE(table->Equals(*Expected(chunks))) << table->ToString();
}

TEST(SliceOutputs, MergesListingByListingFromMemoryInPiecesOfAnySize) {
  auto outputs = SliceOutputs::Open("", Schema(), 2).ValueOrDie();
  AddSlices(*outputs, 0);
  AddSlices(*outputs, 1);
  ASSERT_TRUE(outputs->Seal().ok());
  // Pieces of 3, 4 and 7 rows start and end at other bit offsets of the validity bitmaps (values
  // and nulls are copied as bits), 1000 takes every row.
  for (int64_t piece : {1, 3, 4, 7, 1000}) ExpectMerged(*outputs, 2, piece);
  EXPECT_EQ(outputs->spilled_bytes(), 0);
}

TEST(SliceOutputs, MergesTheSameFromFilesAndDeletesThem) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/task.arrow.slices";
  {
    auto outputs = SliceOutputs::Open(dir, Schema(), 3).ValueOrDie();
    AddSlices(*outputs, 0);
    AddSlices(*outputs, 1);
    EXPECT_TRUE(std::filesystem::exists(dir + "/chunk-00000.rows"));
    EXPECT_TRUE(std::filesystem::exists(dir + "/chunk-00001.rows"));
    EXPECT_FALSE(std::filesystem::exists(dir + "/chunk-00002.rows"));  // nothing added
    ASSERT_TRUE(outputs->Seal().ok());
    for (int64_t piece : {5, 8, 1000}) ExpectMerged(*outputs, 2, piece);
    EXPECT_GT(outputs->spilled_bytes(), 0);
  }
  EXPECT_FALSE(std::filesystem::exists(dir));  // removed with its files
}

TEST(SliceOutputs, AFileCutShortIsAnErrorNamingIt) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/task.arrow.slices";
  auto outputs = SliceOutputs::Open(dir, Schema(), 1).ValueOrDie();
  AddSlices(*outputs, 0);
  ASSERT_TRUE(outputs->Seal().ok());
  const std::string path = dir + "/chunk-00000.rows";
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  auto merged = outputs->MergeRows(0, outputs->rows());
  ASSERT_FALSE(merged.ok());
  EXPECT_NE(merged.status().message().find(path + ": fewer bytes than written"), std::string::npos)
      << merged.status().ToString();
}

TEST(SliceOutputs, MergesOnlySealedRowsItHas) {
  auto outputs = SliceOutputs::Open("", Schema(), 1).ValueOrDie();
  AddSlices(*outputs, 0);
  auto early = outputs->MergeRows(0, 1);
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.status().message().find("before the output is sealed"), std::string::npos);
  ASSERT_TRUE(outputs->Seal().ok());
  auto past = outputs->MergeRows(ChunkRows() - 1, 2);
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.status().message().find("rows 22..24 of 23"), std::string::npos) << past.status().ToString();
  const Status late = outputs->Add(0, 7, std::vector<int64_t>{99}, Blocks(7, {99}));
  EXPECT_NE(late.message().find("added once sealed"), std::string::npos) << late.ToString();
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
  ASSERT_TRUE(outputs->Seal().ok());
  EXPECT_EQ(outputs->rows(), 0);  // nothing of either kept
}

}  // namespace
}  // namespace intraday
