// The reader on files written here: batches bounded in rows, projection, row-group selection,
// unit conversion, and the errors for bad files (wrong type, truncated, not Parquet).
#include <fstream>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/filesystem/localfs.h>
#include <arrow/io/file.h>
#include <arrow/table.h>
#include <gtest/gtest.h>
#include <parquet/arrow/writer.h>

#include "io/lake.h"
#include "io/table_reader.h"
#include "test_support.h"

namespace intraday {
namespace {

// A small trades-like table: ListingId, TradeTimestamp in ms, Size, TradeNotional.
std::shared_ptr<arrow::Table> MakeTrades(int64_t rows, bool listing_as_string = false) {
  arrow::Int64Builder ids;
  arrow::StringBuilder id_strings;
  arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::MILLI), arrow::default_memory_pool());
  arrow::DoubleBuilder size, notional;
  for (int64_t i = 0; i < rows; ++i) {
    (void)ids.Append(i % 7);
    (void)id_strings.Append(std::to_string(i % 7));
    if (i % 5 == 4) {
      (void)ts.AppendNull();
    } else {
      (void)ts.Append(1767355200000 + i);
    }
    (void)size.Append(i % 3 == 0 ? 0.0 : 10.0);
    (void)notional.Append(100.0 * static_cast<double>(i));
  }
  auto schema = arrow::schema({arrow::field("ListingId", listing_as_string ? arrow::utf8() : arrow::int64()),
                               arrow::field("TradeTimestamp", arrow::timestamp(arrow::TimeUnit::MILLI)),
                               arrow::field("Size", arrow::float64()),
                               arrow::field("TradeNotional", arrow::float64())});
  std::shared_ptr<arrow::Array> a, b, c, d;
  if (listing_as_string) {
    (void)id_strings.Finish(&a);
  } else {
    (void)ids.Finish(&a);
  }
  (void)ts.Finish(&b);
  (void)size.Finish(&c);
  (void)notional.Finish(&d);
  return arrow::Table::Make(schema, {a, b, c, d});
}

void WriteParquet(const std::shared_ptr<arrow::Table>& table, const std::string& path,
                  int64_t row_group_rows) {
  auto out = arrow::io::FileOutputStream::Open(path).ValueOrDie();
  ASSERT_TRUE(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), out, row_group_rows).ok());
  ASSERT_TRUE(out->Close().ok());
}

/// `mapped`: through a local filesystem that memory-maps its files, as a lake on local disk does.
Result<std::unique_ptr<TableFileReader>> OpenTrades(const std::string& path, TableReadOptions options,
                                                    bool mapped = false) {
  arrow::fs::LocalFileSystemOptions local;
  local.use_mmap = mapped;
  return TableFileReader::Open(std::make_shared<arrow::fs::LocalFileSystem>(local), path, path,
                               Table::kTrades, std::move(options));
}

TEST(TableReader, BoundedBatchesProjectionAndUnits) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/t.parquet";
  WriteParquet(MakeTrades(1000), path, 300);
  TableReadOptions options;
  options.columns = {"TradeTimestamp", "LocalPrice", "ListingId"};
  options.batch_rows = 128;
  auto reader = OpenTrades(path, options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->schema()->ToString(),
            "TradeTimestamp: timestamp[ns]\nLocalPrice: double\nListingId: int64");
  int64_t rows = 0;
  while (true) {
    auto batch = (*reader)->Next();
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    if (*batch == nullptr) break;
    ASSERT_LE((*batch)->num_rows(), 128);
    const auto& ts = static_cast<const arrow::TimestampArray&>(*(*batch)->column(0));
    const auto& price = static_cast<const arrow::DoubleArray&>(*(*batch)->column(1));
    for (int64_t i = 0; i < (*batch)->num_rows(); ++i) {
      const int64_t row = rows + i;
      if (row % 5 == 4) {
        EXPECT_TRUE(ts.IsNull(i));
      } else {
        EXPECT_EQ(ts.Value(i), (1767355200000 + row) * 1'000'000);
      }
      if (row % 3 == 0) {
        EXPECT_TRUE(price.IsNull(i)) << "Size 0 gives a null LocalPrice";
      } else {
        EXPECT_DOUBLE_EQ(price.Value(i), 100.0 * static_cast<double>(row) / 10.0);
      }
    }
    rows += (*batch)->num_rows();
  }
  EXPECT_EQ(rows, 1000);
}

TEST(TableReader, SelectedRowGroupsOnly) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/t.parquet";
  WriteParquet(MakeTrades(1000), path, 300);  // row groups of 300, 300, 300, 100
  TableReadOptions options;
  options.columns = {"ListingId"};
  options.row_groups = {3, 1};
  auto reader = OpenTrades(path, options);
  ASSERT_TRUE(reader.ok());
  auto batches = (*reader)->ReadAll();
  ASSERT_TRUE(batches.ok());
  int64_t rows = 0;
  for (const auto& b : *batches) rows += b->num_rows();
  EXPECT_EQ(rows, 400);
  options.row_groups = {4};
  auto bad = OpenTrades(path, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("row group 4"), std::string::npos);
}

TEST(TableReader, WrongTypeNamesFileAndColumn) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/bad-types.parquet";
  WriteParquet(MakeTrades(10, /*listing_as_string=*/true), path, 10);
  TableReadOptions options;
  options.columns = {"ListingId", "Size"};
  auto reader = OpenTrades(path, options);
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(reader.status().IsTypeError());
  EXPECT_NE(reader.status().message().find("bad-types.parquet"), std::string::npos);
  EXPECT_NE(reader.status().message().find("'ListingId'"), std::string::npos);
  EXPECT_NE(reader.status().message().find("expected int64"), std::string::npos);
}

TEST(TableReader, TruncatedAndGarbageFilesAreErrorsNamingTheFile) {
  testing::TempDir tmp;
  const std::string good = tmp.path() + "/good.parquet";
  WriteParquet(MakeTrades(5000), good, 1000);
  std::string bytes;
  {
    std::ifstream in(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string truncated = tmp.path() + "/truncated.parquet";
  std::ofstream(truncated, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  const std::string garbage = tmp.path() + "/garbage.parquet";
  std::ofstream(garbage) << "this is not parquet at all, not even close";
  for (const bool mapped : {false, true}) {
    for (const auto& path : {truncated, garbage}) {
      auto reader = OpenTrades(path, {}, mapped);
      ASSERT_FALSE(reader.ok()) << path;
      EXPECT_NE(reader.status().message().find(path), std::string::npos) << reader.status().ToString();
    }
  }
  auto missing = OpenTrades(tmp.path() + "/missing.parquet", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing.parquet"), std::string::npos);
}

TEST(TableReader, CorruptPageIsADecodeErrorNamingTheFile) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/corrupt.parquet";
  WriteParquet(MakeTrades(20000), path, 20000);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Overwrite the middle of the data pages, keep the footer intact.
  for (size_t i = 100; i < bytes.size() / 2; ++i) bytes[i] = static_cast<char>(0xA5);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  for (const bool mapped : {false, true}) {
    auto reader = OpenTrades(path, {}, mapped);
    Status status = reader.status();
    if (reader.ok()) status = (*reader)->ReadAll().status();
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.message().find("corrupt.parquet"), std::string::npos) << status.ToString();
  }
}

TEST(Lake, LocalFilesAreReadMemoryMapped) {
  // Decoding straight from the page cache: no copy into fresh heap buffers (docs/engine.md).
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/t.parquet";
  WriteParquet(MakeTrades(3000), path, 1000);
  LakeOptions options;
  options.root = tmp.path();
  auto lake = Lake::Open(options);
  ASSERT_TRUE(lake.ok()) << lake.status().ToString();
  auto file = (*lake)->fs()->OpenInputFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_NE(dynamic_cast<arrow::io::MemoryMappedFile*>(file->get()), nullptr);
  auto reader = TableFileReader::Open((*lake)->fs(), path, path, Table::kTrades, {});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto batches = (*reader)->ReadAll();
  ASSERT_TRUE(batches.ok()) << batches.status().ToString();
  int64_t rows = 0;
  for (const auto& b : *batches) rows += b->num_rows();
  EXPECT_EQ(rows, 3000);
}

TEST(Lake, PathTemplatesAndLocate) {
  testing::TempDir tmp;
  LakeOptions options;
  options.root = tmp.path();
  options.path_templates[Table::kL2] = "custom/{Date}/{MIC}_{prefix}book.parquet";
  auto lake = Lake::Open(options);
  ASSERT_TRUE(lake.ok()) << lake.status().ToString();
  const Date day = Date::FromYmd(2026, 1, 2);
  EXPECT_EQ(*(*lake)->PathOf(Table::kTrades, day, "XLON"),
            tmp.path() + "/Trades-Plus/XLON/2026/01/02/trades-plus-XLON-20260102.parquet");
  EXPECT_EQ(*(*lake)->PathOf(Table::kL3, day, "XPAR"),
            tmp.path() + "/Equity-L3/XPAR/2026/01/02/l3-XPAR-20260102.parquet");
  EXPECT_EQ(*(*lake)->PathOf(Table::kL2, day, "XLON"), tmp.path() + "/custom/2026-01-02/XLON_book.parquet");
  auto missing = (*lake)->Locate(Table::kTrades, day, "XLON");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  std::filesystem::create_directories(tmp.path() + "/Trades-Plus/XLON/2026/01/02");
  std::ofstream(tmp.path() + "/Trades-Plus/XLON/2026/01/02/trades-plus-XLON-20260102.parquet") << "x";
  auto found = (*lake)->Locate(Table::kTrades, day, "XLON");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());

  options.path_templates[Table::kL3] = "{Folder}/{Nope}.parquet";
  auto bad = Lake::Open(options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("data.paths.l3"), std::string::npos);
  EXPECT_NE(bad.status().message().find("{Nope}"), std::string::npos);
  EXPECT_FALSE(ValidatePathTemplate("a/{MIC").ok());
  options.path_templates.clear();
  options.root = tmp.path() + "/no-such-root";
  auto no_root = Lake::Open(options);
  ASSERT_FALSE(no_root.ok());
  EXPECT_NE(no_root.status().message().find("no-such-root does not exist"), std::string::npos);
  EXPECT_FALSE(ValidatePathTemplate("a/MIC}").ok());
}

}  // namespace
}  // namespace intraday
