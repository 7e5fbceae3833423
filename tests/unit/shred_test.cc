// The shredder on a file written here: every routed row lands in its listing's batch with all
// its values (numbers, strings, booleans, nulls), each spill record batch holds its rows grouped
// by ListingId (ascending), a listing's rows keep their file order, and rows of listings outside
// the plan are dropped. Its read batches take half of the buffer.
#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/table.h>
#include <gtest/gtest.h>
#include <parquet/arrow/writer.h>

#include "io/lake.h"
#include "io/location.h"
#include "shred/shredder.h"
#include "test_support.h"

namespace intraday {
namespace {

int64_t ListingAt(int64_t row) { return row % 7 == 6 ? 9 : 1 + (row * 7919 % 5); }

// Trades of listings 1..5 interleaved in time order, as vendor files are; listing 9 is not
// planned. Size holds the row's position in the file; the other columns (with nulls) are
// functions of it.
// `unsigned_ids`: ListingId stored as uint32, which the shredder reads through the Arrow reader
// (io/column_pages.h offers signed integers only), not from its pages.
std::shared_ptr<arrow::Table> InterleavedTrades(int64_t rows, bool unsigned_ids = false) {
  arrow::Int64Builder id;
  arrow::UInt32Builder unsigned_id;
  arrow::TimestampBuilder time(arrow::timestamp(arrow::TimeUnit::NANO), arrow::default_memory_pool());
  arrow::DoubleBuilder size;
  arrow::Int32Builder small;  // null on every fifth row
  arrow::StringBuilder text;  // null on every fourth row, "" on every sixth
  arrow::BooleanBuilder flag;
  for (int64_t i = 0; i < rows; ++i) {
    EXPECT_TRUE(id.Append(ListingAt(i)).ok());
    EXPECT_TRUE(unsigned_id.Append(static_cast<uint32_t>(ListingAt(i))).ok());
    EXPECT_TRUE(time.Append(1'000'000'000 + i / 3).ok());  // ties in time too
    EXPECT_TRUE(size.Append(static_cast<double>(i)).ok());
    EXPECT_TRUE((i % 5 == 0 ? small.AppendNull() : small.Append(static_cast<int32_t>(i))).ok());
    EXPECT_TRUE((i % 4 == 0 ? text.AppendNull() : text.Append(i % 6 == 0 ? "" : std::to_string(i))).ok());
    EXPECT_TRUE(flag.Append(i % 3 == 0).ok());
  }
  auto schema = arrow::schema({arrow::field("ListingId", unsigned_ids ? arrow::uint32() : arrow::int64()),
                               arrow::field("TradeTimestamp", arrow::timestamp(arrow::TimeUnit::NANO)),
                               arrow::field("Size", arrow::float64()), arrow::field("Small", arrow::int32()),
                               arrow::field("Text", arrow::utf8()), arrow::field("Flag", arrow::boolean())});
  return arrow::Table::Make(
      schema, {unsigned_ids ? unsigned_id.Finish().ValueOrDie() : id.Finish().ValueOrDie(),
               time.Finish().ValueOrDie(), size.Finish().ValueOrDie(), small.Finish().ValueOrDie(),
               text.Finish().ValueOrDie(), flag.Finish().ValueOrDie()});
}

/// A day of one trades file of `rows` rows (row groups of `row_group_rows`) and two batches,
/// listings 1-2 and 3-5, shredded in one thread.
class ShredDayTest : public ::testing::Test {
 protected:
  void WriteFile(int64_t rows, int64_t row_group_rows, bool unsigned_ids = false) {
    path_ = tmp_.path() + "/trades.parquet";
    auto out = arrow::io::FileOutputStream::Open(path_).ValueOrDie();
    ASSERT_TRUE(parquet::arrow::WriteTable(*InterleavedTrades(rows, unsigned_ids),
                                           arrow::default_memory_pool(), out, row_group_rows)
                    .ok());
    plan_.columns = {{Table::kTrades, {"ListingId", "TradeTimestamp", "Size", "Small", "Text", "Flag"}}};
    InputFile file;
    file.table = Table::kTrades;
    file.mic = "XLON";
    file.path = file.display_path = path_;
    plan_.files = {file};
    plan_.batches.resize(2);
    plan_.batches[0].id = 0;
    plan_.batches[0].listings = {1, 2};
    plan_.batches[1].id = 1;
    plan_.batches[1].listings = {3, 4, 5};
  }

  Result<ShredResult> Shred(uint64_t buffer_bytes) {
    LakeOptions lake_options;
    lake_options.root = tmp_.path();
    INTRADAY_ASSIGN_OR_RAISE(lake_, Lake::Open(lake_options));
    INTRADAY_ASSIGN_OR_RAISE(scratch_, Location::Open(tmp_.path() + "/scratch", {}));
    ShredRequest request;
    request.lake = lake_.get();
    request.plan = &plan_;
    request.scratch = &*scratch_;
    request.spill_dir = tmp_.path() + "/scratch/spill";
    request.buffer_bytes = buffer_bytes;
    request.threads = 1;
    return ShredDay(request);
  }

  testing::TempDir tmp_;
  std::string path_;
  DayPlan plan_;
  std::shared_ptr<Lake> lake_;
  std::optional<Location> scratch_;
};

int RecordBatches(const SpillFile& spill) {
  auto spilled = arrow::io::ReadableFile::Open(spill.path).ValueOrDie();
  return arrow::ipc::RecordBatchFileReader::Open(spilled).ValueOrDie()->num_record_batches();
}

class ShredDayIdsTest : public ShredDayTest, public ::testing::WithParamInterface<bool> {};

// Fixed-width columns from their pages, or (unsigned ids) the whole file through the Arrow reader.
TEST_P(ShredDayIdsTest, GroupsEachPieceByListingAndKeepsFileOrder) {
  constexpr int64_t kRows = 20000;
  WriteFile(kRows, 4096, /*unsigned_ids=*/GetParam());
  auto shredded = Shred(1 << 20);  // several read batches (the file's row groups)
  ASSERT_TRUE(shredded.ok()) << shredded.status().ToString();
  EXPECT_EQ(shredded->rows_read, kRows);
  ASSERT_EQ(shredded->files.size(), 2u);
  const DayPlan& plan = plan_;

  int64_t routed = 0;
  int record_batches = 0;
  for (const SpillFile& spill : shredded->files) {
    const auto& listings = plan.batches[static_cast<size_t>(spill.batch)].listings;
    auto spilled = arrow::io::ReadableFile::Open(spill.path).ValueOrDie();
    auto reader = arrow::ipc::RecordBatchFileReader::Open(spilled).ValueOrDie();
    std::map<int64_t, double> last_position;  // per listing, the file position of its last row
    for (int b = 0; b < reader->num_record_batches(); ++b) {
      auto batch = reader->ReadRecordBatch(b).ValueOrDie();
      ++record_batches;
      const auto& ids = static_cast<const arrow::Int64Array&>(*batch->column(0));
      const auto& positions = static_cast<const arrow::DoubleArray&>(*batch->column(2));
      const auto& small = static_cast<const arrow::Int32Array&>(*batch->column(3));
      const auto& text = static_cast<const arrow::StringArray&>(*batch->column(4));
      const auto& flag = static_cast<const arrow::BooleanArray&>(*batch->column(5));
      for (int64_t i = 0; i < batch->num_rows(); ++i) {
        const int64_t id = ids.Value(i);
        ASSERT_NE(std::find(listings.begin(), listings.end(), id), listings.end()) << "listing " << id;
        if (i > 0) {
          ASSERT_LE(ids.Value(i - 1), id) << "rows not grouped by listing in record batch " << b;
        }
        // File order within a listing, across record batches too.
        if (last_position.count(id)) {
          ASSERT_LT(last_position[id], positions.Value(i));
        }
        last_position[id] = positions.Value(i);
        // Size is the row's position in the file: every value must be that row's.
        const auto position = static_cast<int64_t>(positions.Value(i));
        ASSERT_EQ(ListingAt(position), id);
        ASSERT_EQ(small.IsNull(i), position % 5 == 0);
        if (!small.IsNull(i)) {
          ASSERT_EQ(small.Value(i), position);
        }
        ASSERT_EQ(text.IsNull(i), position % 4 == 0);
        if (!text.IsNull(i)) {
          ASSERT_EQ(text.GetView(i), position % 6 == 0 ? "" : std::to_string(position));
        }
        ASSERT_EQ(flag.Value(i), position % 3 == 0);
      }
      routed += batch->num_rows();
    }
  }
  EXPECT_GT(record_batches, 2) << "the buffer should have forced several pieces per batch";
  EXPECT_EQ(routed, shredded->rows_routed);
  EXPECT_EQ(routed, kRows - (kRows + 1) / 7);  // every row but listing 9's (i % 7 == 6)
  // Five row groups of six columns: Text and Flag through Arrow, the others from their pages.
  if (GetParam()) {
    EXPECT_EQ(shredded->page_column_chunks, 0);
    EXPECT_EQ(shredded->arrow_column_chunks, 5 * 6);
  } else {
    EXPECT_EQ(shredded->page_column_chunks, 5 * 4);
    EXPECT_EQ(shredded->arrow_column_chunks, 5 * 2);
  }
}

INSTANTIATE_TEST_SUITE_P(ListingIdTypes, ShredDayIdsTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? std::string("UnsignedIdsThroughArrow")
                                              : std::string("FromPages");
                         });

// A read batch and its routed copy are what a shredding thread holds: each takes half of its
// buffer, in rows from the decoded bytes per row of the plan's sizes. Every read batch leaves one
// record batch in each spill file (both batches have rows in all of them).
TEST_F(ShredDayTest, ReadBatchesTakeHalfOfTheBuffer) {
  constexpr int64_t kRows = 20000;
  WriteFile(kRows, kRows);  // one row group: the read batches are the shredder's alone
  ListingSize size;
  size.rows[TableIndex(Table::kTrades)] = kRows;
  size.bytes[TableIndex(Table::kTrades)] = kRows * 200;  // 200 bytes a row
  plan_.sizes = {size};
  for (const auto& [buffer_bytes, read_batch_rows] :
       std::vector<std::pair<uint64_t, int64_t>>{{1'200'000, 3000}, {2'000'000, 5000}, {8'000'000, 20000}}) {
    auto shredded = Shred(buffer_bytes);
    ASSERT_TRUE(shredded.ok()) << shredded.status().ToString();
    ASSERT_EQ(shredded->files.size(), 2u);
    const int expected = static_cast<int>((kRows + read_batch_rows - 1) / read_batch_rows);
    for (const SpillFile& spill : shredded->files) {
      EXPECT_EQ(RecordBatches(spill), expected) << "buffer " << buffer_bytes << ", spill file " << spill.path;
    }
  }
}

}  // namespace
}  // namespace intraday
