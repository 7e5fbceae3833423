// The day file depends only on its rows: the same rows cut into different batch outputs give
// byte-identical Parquet files; rows out of (ListingId, TimeBucket) order are refused.
#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include <arrow/builder.h>
#include <arrow/io/file.h>
#include <arrow/ipc/writer.h>
#include <arrow/record_batch.h>
#include <arrow/table.h>
#include <gtest/gtest.h>
#include <parquet/arrow/reader.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include "exec/day_output.h"
#include "io/location.h"
#include "test_support.h"

namespace intraday {
namespace {

std::shared_ptr<arrow::Schema> Schema() {
  return arrow::schema({arrow::field("ListingId", arrow::int64(), false),
                        arrow::field("TimeBucket", arrow::timestamp(arrow::TimeUnit::NANO), false),
                        arrow::field("Value", arrow::float64())});
}

std::shared_ptr<arrow::RecordBatch> Rows(int64_t first, int64_t count) {
  arrow::Int64Builder ids;
  arrow::TimestampBuilder times(arrow::timestamp(arrow::TimeUnit::NANO), arrow::default_memory_pool());
  arrow::DoubleBuilder values;
  for (int64_t r = first; r < first + count; ++r) {
    EXPECT_TRUE(ids.Append(r / 1000).ok());
    EXPECT_TRUE(times.Append(r % 1000).ok());
    EXPECT_TRUE(r % 7 == 0 ? values.AppendNull().ok() : values.Append(static_cast<double>(r) * 0.5).ok());
  }
  return arrow::RecordBatch::Make(
      Schema(), count,
      {ids.Finish().ValueOrDie(), times.Finish().ValueOrDie(), values.Finish().ValueOrDie()});
}

std::string WriteIpc(const std::string& path,
                     const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) {
  auto file = arrow::io::FileOutputStream::Open(path).ValueOrDie();
  auto writer = arrow::ipc::MakeFileWriter(file, Schema()).ValueOrDie();
  for (const auto& b : batches) EXPECT_TRUE(writer->WriteRecordBatch(*b).ok());
  EXPECT_TRUE(writer->Close().ok());
  EXPECT_TRUE(file->Close().ok());
  return path;
}

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(DayOutput, BytesDependOnlyOnRows) {
  testing::TempDir tmp;
  const int64_t total = 300'000;  // more than two row groups
  // One batch output with one big record batch.
  const auto one = WriteIpc(tmp.path() + "/one.arrow", {Rows(0, total)});
  // Three batch outputs with ragged record batches.
  const auto a = WriteIpc(tmp.path() + "/a.arrow", {Rows(0, 1), Rows(1, 99'999)});
  const auto b = WriteIpc(tmp.path() + "/b.arrow", {Rows(100'000, 12'345), Rows(112'345, 7)});
  const auto c = WriteIpc(tmp.path() + "/c.arrow", {Rows(112'352, total - 112'352)});
  auto first = WriteDayParquet({one}, Schema(), tmp.path() + "/first.parquet");
  auto second = WriteDayParquet({a, b, c}, Schema(), tmp.path() + "/second.parquet");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(first->rows, total);
  EXPECT_EQ(second->rows, total);
  EXPECT_EQ(Bytes(tmp.path() + "/first.parquet"), Bytes(tmp.path() + "/second.parquet"));
  EXPECT_EQ(first->bytes, Bytes(tmp.path() + "/first.parquet").size());
}

// run.output_compression: the codec (and level) the day file is written with; the rows read back
// are the same whatever it is.
TEST(DayOutput, CompressionIsTheConfiguredOneAndKeepsTheRows) {
  testing::TempDir tmp;
  const int64_t total = 50'000;
  const auto rows = Rows(0, total);
  struct Case {
    DayFileCompression compression;
    parquet::Compression::type codec;
  };
  const std::vector<Case> cases{{{}, parquet::Compression::ZSTD},
                                {{"zstd", -1}, parquet::Compression::ZSTD},
                                {{"snappy", std::nullopt}, parquet::Compression::SNAPPY},
                                {{"gzip", 9}, parquet::Compression::GZIP},
                                {{"none", std::nullopt}, parquet::Compression::UNCOMPRESSED}};
  std::vector<size_t> sizes;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string path = tmp.path() + "/day-" + std::to_string(i) + ".parquet";
    auto sink = arrow::io::FileOutputStream::Open(path).ValueOrDie();
    auto writer = DayFileWriter::Open(Schema(), sink, 2, cases[i].compression);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    ASSERT_TRUE((*writer)->Add(rows, "rows").ok());
    ASSERT_TRUE((*writer)->Finish().ok());
    ASSERT_TRUE(sink->Close().ok());
    auto file = parquet::ParquetFileReader::OpenFile(path);
    for (int c = 0; c < file->metadata()->num_columns(); ++c) {
      EXPECT_EQ(file->metadata()->RowGroup(0)->ColumnChunk(c)->compression(), cases[i].codec)
          << cases[i].compression.codec << ", column " << c;
    }
    auto reader = parquet::arrow::OpenFile(arrow::io::ReadableFile::Open(path).ValueOrDie(),
                                           arrow::default_memory_pool());
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto table = (*reader)->ReadTable();
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    auto expected = arrow::Table::FromRecordBatches({rows}).ValueOrDie();
    EXPECT_TRUE((*table)->CombineChunks().ValueOrDie()->Equals(*expected)) << cases[i].compression.codec;
    sizes.push_back(Bytes(path).size());
  }
  EXPECT_GT(sizes[4], sizes[0]);  // uncompressed is the largest
  const auto unknown =
      DayFileWriter::Open(Schema(), arrow::io::FileOutputStream::Open(tmp.path() + "/x.parquet").ValueOrDie(),
                          2, {"brotli", std::nullopt});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown output compression 'brotli'"), std::string::npos);
}

TEST(DayOutput, RowsOutOfOrderAreRefused) {
  testing::TempDir tmp;
  const auto late = WriteIpc(tmp.path() + "/late.arrow", {Rows(5000, 10)});
  const auto early = WriteIpc(tmp.path() + "/early.arrow", {Rows(0, 10)});
  auto result = WriteDayParquet({late, early}, Schema(), tmp.path() + "/day.parquet");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("out of (ListingId, TimeBucket) order"), std::string::npos);
  EXPECT_NE(result.status().message().find("early.arrow"), std::string::npos);
}

// A worker whose batch is the whole day writes the file from the rows it holds: the bytes the
// driver writes from batch outputs.
TEST(DayOutput, RowsInMemoryGiveTheBytesOfBatchOutputs) {
  testing::TempDir tmp;
  const int64_t total = 100'000;
  const auto outputs = WriteIpc(tmp.path() + "/out.arrow", {Rows(0, total)});
  ASSERT_TRUE(WriteDayParquet({outputs}, Schema(), tmp.path() + "/driver.parquet").ok());

  auto sink = arrow::io::FileOutputStream::Open(tmp.path() + "/worker.parquet").ValueOrDie();
  auto writer = DayFileWriter::Open(Schema(), sink);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  for (const auto& [first, count] :
       std::vector<std::pair<int64_t, int64_t>>{{0, 5}, {5, 40'000}, {40'005, 59'995}})
    ASSERT_TRUE((*writer)->Add(Rows(first, count), "rows").ok());
  auto stats = (*writer)->Finish();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_EQ(stats->rows, total);
  EXPECT_EQ(stats->bytes, Bytes(tmp.path() + "/worker.parquet").size());
  EXPECT_EQ(Bytes(tmp.path() + "/worker.parquet"), Bytes(tmp.path() + "/driver.parquet"));
}

TEST(DayOutput, RowsInMemoryOutOfOrderAreRefusedNamingTheirSource) {
  testing::TempDir tmp;
  auto sink = arrow::io::FileOutputStream::Open(tmp.path() + "/day.parquet").ValueOrDie();
  auto writer = DayFileWriter::Open(Schema(), sink);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Add(Rows(10, 10), "first rows").ok());
  const Status st = (*writer)->Add(Rows(15, 10), "second rows");  // repeats rows 15..19
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("second rows: rows out of (ListingId, TimeBucket) order at row 0"),
            std::string::npos)
      << st.message();
}

// The driver hands each batch output over as its batch finishes: outputs added while earlier
// ones are being written give the bytes of the outputs written in one go.
TEST(DayOutput, OutputsHandedOverOneByOneGiveTheSameBytes) {
  testing::TempDir tmp;
  const int64_t total = 250'000;
  const auto one = WriteIpc(tmp.path() + "/one.arrow", {Rows(0, total)});
  ASSERT_TRUE(WriteDayParquet({one}, Schema(), tmp.path() + "/whole.parquet").ok());
  const std::vector<std::string> parts{WriteIpc(tmp.path() + "/a.arrow", {Rows(0, 90'000)}),
                                       WriteIpc(tmp.path() + "/b.arrow", {Rows(90'000, 60'000)}),
                                       WriteIpc(tmp.path() + "/c.arrow", {Rows(150'000, total - 150'000)})};
  auto local = Location::Open("/", S3Settings{}).ValueOrDie();
  auto sink = arrow::io::FileOutputStream::Open(tmp.path() + "/handed.parquet").ValueOrDie();
  auto day_file = DayFileFromOutputs::Open(local, Schema(), sink);
  ASSERT_TRUE(day_file.ok()) << day_file.status().ToString();
  for (const auto& part : parts) {
    (*day_file)->Add(part);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the writer's thread runs meanwhile
  }
  auto stats = (*day_file)->Finish();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_EQ(stats->rows, total);
  EXPECT_EQ(Bytes(tmp.path() + "/handed.parquet"), Bytes(tmp.path() + "/whole.parquet"));
}

// The first output that fails stops the file: the outputs after it are not read (one of them
// here does not exist), and Finish names the failing one.
TEST(DayOutput, HandedOverOutputsStopAtTheFirstError) {
  testing::TempDir tmp;
  const auto late = WriteIpc(tmp.path() + "/late.arrow", {Rows(5000, 10)});
  const auto early = WriteIpc(tmp.path() + "/early.arrow", {Rows(0, 10)});
  auto local = Location::Open("/", S3Settings{}).ValueOrDie();
  auto sink = arrow::io::FileOutputStream::Open(tmp.path() + "/day.parquet").ValueOrDie();
  auto day_file = DayFileFromOutputs::Open(local, Schema(), sink);
  ASSERT_TRUE(day_file.ok());
  (*day_file)->Add(late);
  (*day_file)->Add(early);
  (*day_file)->Add(tmp.path() + "/missing.arrow");
  auto stats = (*day_file)->Finish();
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().message().find("early.arrow: rows out of (ListingId, TimeBucket) order"),
            std::string::npos)
      << stats.status().message();
}

// A day abandoned (the run stopped or failed) drops its file without writing the outputs still
// queued: destroyed right after twenty outputs were queued, it has written at most the first.
TEST(DayOutput, HandedOverOutputsAreAbandonedWithoutFinish) {
  testing::TempDir tmp;
  std::vector<std::string> parts;
  for (int i = 0; i < 20; ++i)
    parts.push_back(
        WriteIpc(tmp.path() + "/part" + std::to_string(i) + ".arrow", {Rows(i * 50'000, 50'000)}));
  ASSERT_TRUE(WriteDayParquet(parts, Schema(), tmp.path() + "/whole.parquet").ok());
  auto local = Location::Open("/", S3Settings{}).ValueOrDie();
  auto sink = arrow::io::FileOutputStream::Open(tmp.path() + "/abandoned.parquet").ValueOrDie();
  {
    auto day_file = DayFileFromOutputs::Open(local, Schema(), sink);
    ASSERT_TRUE(day_file.ok());
    for (const auto& part : parts) (*day_file)->Add(part);
  }  // destroyed here, Finish never called
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_LT(Bytes(tmp.path() + "/abandoned.parquet").size() * 10,
            Bytes(tmp.path() + "/whole.parquet").size());
}

TEST(DayOutput, EmptyDayIsAValidEmptyFile) {
  testing::TempDir tmp;
  auto result = WriteDayParquet({}, Schema(), tmp.path() + "/day.parquet");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->rows, 0);
  EXPECT_GT(result->bytes, 0u);
}

}  // namespace
}  // namespace intraday
