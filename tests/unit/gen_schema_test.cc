// The generator writes every table with the vendor's schema: the column names, their order and
// their Arrow types (timestamp units included) of the real sample files.
#include <gtest/gtest.h>

#include <filesystem>

#include <arrow/filesystem/localfs.h>
#include <arrow/io/file.h>
#include <arrow/type.h>
#include <parquet/arrow/reader.h>

#include "gen/lake_generator.h"
#include "gen/vendor_schema.h"
#include "io/lake.h"

namespace intraday::gen {
namespace {

const std::string kSampleDir = INTRADAY_SOURCE_DIR "/../shared/fixtures/sample-day/";

std::string SampleFile(Table table) {
  return kSampleDir + std::string(SpecOf(table).vendor_name) + ".parquet";
}

std::shared_ptr<arrow::Schema> ParquetSchema(const std::string& path) {
  auto input = arrow::io::ReadableFile::Open(path);
  EXPECT_TRUE(input.ok()) << path;
  if (!input.ok()) return nullptr;
  auto reader = parquet::arrow::OpenFile(*input, arrow::default_memory_pool());
  EXPECT_TRUE(reader.ok()) << path;
  if (!reader.ok()) return nullptr;
  std::shared_ptr<arrow::Schema> schema;
  EXPECT_TRUE((*reader)->GetSchema(&schema).ok());
  return schema;
}

// Names, order and types; nullability and metadata aside. Lists every difference.
void ExpectSameFields(const arrow::Schema& expected, const arrow::Schema& actual, const std::string& what) {
  ASSERT_EQ(actual.num_fields(), expected.num_fields()) << what;
  for (int i = 0; i < expected.num_fields(); ++i) {
    EXPECT_EQ(actual.field(i)->name(), expected.field(i)->name()) << what << " column " << i;
    EXPECT_TRUE(actual.field(i)->type()->Equals(*expected.field(i)->type()))
        << what << " column " << expected.field(i)->name() << ": " << actual.field(i)->type()->ToString()
        << " vs " << expected.field(i)->type()->ToString();
  }
}

class GenSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kSampleDir))
      GTEST_SKIP() << "vendor sample files not found in " << kSampleDir;
  }
};

TEST_F(GenSchemaTest, VendorSchemasEqualTheSampleFiles) {
  for (const auto& spec : AllTables()) {
    auto sample = ParquetSchema(SampleFile(spec.table));
    ASSERT_NE(sample, nullptr);
    ExpectSameFields(*sample, *VendorSchema(spec.table), std::string(spec.vendor_name));
  }
  EXPECT_EQ(VendorSchema(Table::kTrades)->num_fields(), 152);
}

TEST_F(GenSchemaTest, GeneratedFilesHaveTheSampleSchemas) {
  const auto dir = std::filesystem::temp_directory_path() / "intraday_gen_schema_test";
  std::filesystem::remove_all(dir);
  GenerateOptions o;
  o.out = dir.string();
  o.listings = 3;
  o.mics = {"XLON"};
  o.days = {Date::FromYmd(2026, 1, 2)};
  o.profile = Profile::kTiny;
  auto report = GenerateLake(o);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const auto& spec : AllTables()) {
    auto relative = ExpandPathTemplate(DefaultPathTemplate(spec.table), spec.table, o.days[0], "XLON");
    ASSERT_TRUE(relative.ok());
    auto generated = ParquetSchema((dir / *relative).string());
    auto sample = ParquetSchema(SampleFile(spec.table));
    ASSERT_NE(generated, nullptr);
    ASSERT_NE(sample, nullptr);
    ExpectSameFields(*sample, *generated, "generated " + std::string(spec.vendor_name));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace intraday::gen
