// Fixed-width columns read straight from their pages (io/column_pages.h): the values and nulls
// the Arrow reader gives, after TableFileReader's conversions (timestamps in nanoseconds,
// integers widened), for every row group and any chunk size; columns needing another conversion
// are not offered.
#include "io/column_pages.h"

#include <cstring>
#include <optional>

#include <arrow/builder.h>
#include <arrow/filesystem/filesystem.h>
#include <arrow/filesystem/localfs.h>
#include <arrow/io/file.h>
#include <arrow/table.h>
#include <gtest/gtest.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/writer.h>
#include <parquet/file_reader.h>

#include "io/table_reader.h"

namespace intraday {
namespace {

constexpr int64_t kPageTestRows = 1000;
constexpr int64_t kPageTestRowGroupRows = 400;  // row groups of 400, 400, 200
constexpr int64_t kBaseMicros = 1'767'355'200'000'000;

bool IsNullPageTestRow(int64_t i) { return i % 4 == 1; }

template <typename Builder, typename Make>
std::shared_ptr<arrow::Array> PageTestColumn(Builder builder, bool with_nulls, Make make) {
  for (int64_t i = 0; i < kPageTestRows; ++i) {
    if (with_nulls && IsNullPageTestRow(i)) {
      EXPECT_TRUE(builder.AppendNull().ok());
    } else {
      EXPECT_TRUE(builder.Append(make(i)).ok());
    }
  }
  return builder.Finish().ValueOrDie();
}

/// The file of the running test: tests may run at once (ctest -j), each with a file of its own.
std::string PageTestFileName() {
  return std::string("column_pages-") + ::testing::UnitTest::GetInstance()->current_test_info()->name() +
         ".parquet";
}

std::string WritePageTestFile() {
  auto* pool = arrow::default_memory_pool();
  auto micros = arrow::timestamp(arrow::TimeUnit::MICRO);
  auto millis = arrow::timestamp(arrow::TimeUnit::MILLI);
  auto nanos = arrow::timestamp(arrow::TimeUnit::NANO);
  auto table = arrow::Table::Make(
      arrow::schema({arrow::field("Price", arrow::float64()), arrow::field("Qty", arrow::int64(), false),
                     arrow::field("Orders", arrow::int32()), arrow::field("Small", arrow::int16()),
                     arrow::field("TsUs", micros), arrow::field("TsMs", millis), arrow::field("TsNs", nanos),
                     arrow::field("Unsigned", arrow::uint32()), arrow::field("Name", arrow::utf8())}),
      {PageTestColumn(arrow::DoubleBuilder(), true,
                      [](int64_t i) { return 0.5 * static_cast<double>(i) - 7; }),
       PageTestColumn(arrow::Int64Builder(), false, [](int64_t i) { return (i * 7919) % 1000 - 500; }),
       PageTestColumn(arrow::Int32Builder(), true,
                      [](int64_t i) { return static_cast<int32_t>(i % 37) - 3; }),
       PageTestColumn(arrow::Int16Builder(), false, [](int64_t i) { return static_cast<int16_t>(-i); }),
       PageTestColumn(arrow::TimestampBuilder(micros, pool), true, [](int64_t i) { return kBaseMicros + i; }),
       PageTestColumn(arrow::TimestampBuilder(millis, pool), false,
                      [](int64_t i) { return kBaseMicros / 1000 + i; }),
       PageTestColumn(arrow::TimestampBuilder(nanos, pool), true,
                      [](int64_t i) { return kBaseMicros * 1000 + i; }),
       PageTestColumn(arrow::UInt32Builder(), false, [](int64_t i) { return static_cast<uint32_t>(i); }),
       PageTestColumn(arrow::StringBuilder(), false, [](int64_t i) { return std::to_string(i); })});
  const std::string path = ::testing::TempDir() + "/" + PageTestFileName();
  auto out = arrow::io::FileOutputStream::Open(path).ValueOrDie();
  EXPECT_TRUE(parquet::arrow::WriteTable(*table, pool, out, kPageTestRowGroupRows).ok());
  EXPECT_TRUE(out->Close().ok());
  return path;
}

class ColumnPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = WritePageTestFile();
    fs_ = std::make_shared<arrow::fs::LocalFileSystem>();
    metadata_ = parquet::ParquetFileReader::OpenFile(path_)->metadata();
  }

  /// Column `name` of every row group as `type`, read `chunk` rows at a time: per row, its 8-byte
  /// value bits (widths below 8 zero-extended) or nullopt for a null. nullopt if not offered.
  std::optional<std::vector<std::optional<int64_t>>> ReadAll(const std::string& name,
                                                             const arrow::DataType& type, int64_t chunk) {
    std::vector<std::optional<int64_t>> rows;
    const int width = type.byte_width();
    for (int g = 0; g < metadata_->num_row_groups(); ++g) {
      auto pages = RowGroupPages::Open(fs_, path_, "column_pages.parquet", metadata_, g).ValueOrDie();
      auto column = pages->Column(name, type).ValueOrDie();
      if (column == nullptr) return std::nullopt;
      std::vector<uint8_t> values(static_cast<size_t>(chunk * width));
      std::vector<uint8_t> valid(static_cast<size_t>(chunk));
      int64_t in_group = 0;
      while (true) {
        bool has_null = true;
        const int64_t n = column->Next(chunk, values.data(), valid.data(), &has_null).ValueOrDie();
        if (n == 0) break;
        EXPECT_LE(n, chunk);
        for (int64_t i = 0; i < n; ++i) {
          if (has_null && valid[static_cast<size_t>(i)] == 0) {
            rows.push_back(std::nullopt);
            continue;
          }
          int64_t bits = 0;
          std::memcpy(&bits, values.data() + i * width, static_cast<size_t>(width));
          rows.push_back(bits);
        }
        in_group += n;
      }
      EXPECT_EQ(in_group, pages->num_rows());
    }
    return rows;
  }

  /// The same column through TableFileReader (the Arrow path), as the same bits.
  std::vector<std::optional<int64_t>> ReadThroughArrow(const std::string& name) {
    TableReadOptions options;
    options.columns = {name};
    auto reader = TableFileReader::Open(fs_, path_, "column_pages.parquet", Table::kL2, options).ValueOrDie();
    std::vector<std::optional<int64_t>> rows;
    for (const auto& batch : reader->ReadAll().ValueOrDie()) {
      const arrow::ArrayData& data = *batch->column_data(0);
      const int width = data.type->byte_width();
      for (int64_t i = 0; i < data.length; ++i) {
        if (data.GetNullCount() > 0 && !arrow::bit_util::GetBit(data.buffers[0]->data(), data.offset + i)) {
          rows.push_back(std::nullopt);
          continue;
        }
        int64_t bits = 0;
        std::memcpy(&bits, data.buffers[1]->data() + (data.offset + i) * width, static_cast<size_t>(width));
        rows.push_back(bits);
      }
    }
    return rows;
  }

  std::string path_;
  std::shared_ptr<arrow::fs::FileSystem> fs_;
  std::shared_ptr<parquet::FileMetaData> metadata_;
};

TEST_F(ColumnPagesTest, GivesTheArrowReadersValuesAndNullsForAnyChunkSize) {
  const std::vector<std::pair<std::string, std::shared_ptr<arrow::DataType>>> columns{
      {"Price", arrow::float64()},
      {"Qty", arrow::int64()},
      {"Orders", arrow::int32()},
      {"TsUs", arrow::timestamp(arrow::TimeUnit::NANO)},
      {"TsMs", arrow::timestamp(arrow::TimeUnit::NANO)},
      {"TsNs", arrow::timestamp(arrow::TimeUnit::NANO)}};
  for (const auto& [name, type] : columns) {
    const auto expected = ReadThroughArrow(name);
    ASSERT_EQ(static_cast<int64_t>(expected.size()), kPageTestRows) << name;
    for (int64_t chunk : {1, 7, 400, 4096}) {
      const auto got = ReadAll(name, *type, chunk);
      ASSERT_TRUE(got.has_value()) << name << " not offered";
      EXPECT_EQ(*got, expected) << name << ", chunks of " << chunk;
    }
  }
  // Nulls where they were written, and the timestamps in nanoseconds.
  const auto micros = *ReadAll("TsUs", *arrow::timestamp(arrow::TimeUnit::NANO), 64);
  EXPECT_EQ(micros[0], kBaseMicros * 1000);
  EXPECT_EQ(micros[1], std::nullopt);
  EXPECT_EQ(micros[998], (kBaseMicros + 998) * 1000);
}

TEST_F(ColumnPagesTest, WidensSignedIntegersAsACastWould) {
  const auto orders = *ReadAll("Orders", *arrow::int64(), 100);
  const auto small = *ReadAll("Small", *arrow::int64(), 100);
  for (int64_t i = 0; i < kPageTestRows; ++i) {
    EXPECT_EQ(orders[static_cast<size_t>(i)],
              IsNullPageTestRow(i) ? std::nullopt : std::optional<int64_t>(i % 37 - 3));
    EXPECT_EQ(small[static_cast<size_t>(i)], -i);
  }
}

TEST_F(ColumnPagesTest, OffersNoColumnThatNeedsAnotherConversion) {
  EXPECT_FALSE(ReadAll("Unsigned", *arrow::int64(), 16).has_value());  // zero- not sign-extended
  EXPECT_FALSE(ReadAll("Name", *arrow::int64(), 16).has_value());
  EXPECT_FALSE(ReadAll("Qty", *arrow::float64(), 16).has_value());  // a cast Arrow checks
  EXPECT_FALSE(ReadAll("TsUs", *arrow::int64(), 16).has_value());   // not to nanoseconds
  EXPECT_FALSE(ReadAll("Price", *arrow::int64(), 16).has_value());
  EXPECT_FALSE(ReadAll("Missing", *arrow::int64(), 16).has_value());
}

TEST_F(ColumnPagesTest, AFileOutsideTheLocalFileSystemIsNotReadFromPages) {
  // The Arrow reader fetches an object store's ranges coalesced and ahead; a column reader would
  // fetch column by column. Any file system but the local one goes through the Arrow reader.
  auto wrapped = std::make_shared<arrow::fs::SubTreeFileSystem>(::testing::TempDir(), fs_);
  auto pages = RowGroupPages::Open(wrapped, PageTestFileName(), PageTestFileName(), metadata_, 0);
  ASSERT_TRUE(pages.ok()) << pages.status().ToString();
  EXPECT_EQ(*pages, nullptr);
  EXPECT_NE(RowGroupPages::Open(fs_, path_, "column_pages.parquet", metadata_, 0).ValueOrDie(), nullptr);
}

}  // namespace
}  // namespace intraday
