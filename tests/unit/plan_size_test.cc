// Size estimation (plan/file_profile.h, size_cache.h, size_estimator.h) on Parquet files written
// here: exact rows per listing from a scan (interleaved listings) and from row-group statistics
// (clustered), bytes per row from the metadata, the per-file cache, and unknown sizes.
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/filesystem/localfs.h>
#include <arrow/io/file.h>
#include <arrow/table.h>
#include <gtest/gtest.h>
#include <parquet/arrow/writer.h>
#include <parquet/file_reader.h>

#include "metrics/pass_schema.h"
#include "plan/file_profile.h"
#include "plan/row_group_ranges.h"
#include "plan/size_cache.h"
#include "plan/size_estimator.h"
#include "test_support.h"

namespace intraday {
namespace {

using Ids = std::vector<std::optional<int64_t>>;

// A trades-like table: ListingId (nullable), TradeTimestamp (µs), Size, MIC, Classification.
std::shared_ptr<arrow::Table> Trades(const Ids& ids) {
  arrow::Int64Builder id;
  arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::MICRO), arrow::default_memory_pool());
  arrow::DoubleBuilder size;
  arrow::StringBuilder mic, classification;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i]) {
      EXPECT_TRUE(id.Append(*ids[i]).ok());
    } else {
      EXPECT_TRUE(id.AppendNull().ok());
    }
    EXPECT_TRUE(ts.Append(1767600000000000 + static_cast<int64_t>(i)).ok());
    EXPECT_TRUE(size.Append(100.0).ok());
    EXPECT_TRUE(mic.Append("XLON").ok());
    EXPECT_TRUE(classification.Append(i % 2 == 0 ? "LIT_CONTINUOUS" : "OFF_BOOK_ON_EXCHANGE").ok());
  }
  std::shared_ptr<arrow::Array> a, b, c, d, e;
  EXPECT_TRUE(id.Finish(&a).ok());
  EXPECT_TRUE(ts.Finish(&b).ok());
  EXPECT_TRUE(size.Finish(&c).ok());
  EXPECT_TRUE(mic.Finish(&d).ok());
  EXPECT_TRUE(classification.Finish(&e).ok());
  auto schema = arrow::schema({arrow::field("ListingId", arrow::int64()),
                               arrow::field("TradeTimestamp", arrow::timestamp(arrow::TimeUnit::MICRO)),
                               arrow::field("Size", arrow::float64()), arrow::field("MIC", arrow::utf8()),
                               arrow::field("Classification", arrow::utf8())});
  return arrow::Table::Make(schema, {a, b, c, d, e});
}

// Writes `table` with the given row-group sizes (which must add up to its rows).
void WriteFileRowGroups(const std::shared_ptr<arrow::Table>& table, const std::string& path,
                        const std::vector<int64_t>& row_groups, bool compress = true) {
  auto out = arrow::io::FileOutputStream::Open(path).ValueOrDie();
  parquet::WriterProperties::Builder props;
  if (!compress) props.compression(parquet::Compression::UNCOMPRESSED)->disable_dictionary();
  auto writer =
      parquet::arrow::FileWriter::Open(*table->schema(), arrow::default_memory_pool(), out, props.build())
          .ValueOrDie();
  int64_t offset = 0;
  for (int64_t rows : row_groups) {
    ASSERT_TRUE(writer->NewRowGroup().ok());
    auto slice = table->Slice(offset, rows);
    for (int c = 0; c < slice->num_columns(); ++c)
      ASSERT_TRUE(writer->WriteColumnChunk(slice->column(c)).ok());
    offset += rows;
  }
  ASSERT_EQ(offset, table->num_rows());
  ASSERT_TRUE(writer->Close().ok());
  ASSERT_TRUE(out->Close().ok());
}

std::map<int64_t, int64_t> CountOf(const Ids& ids) {
  std::map<int64_t, int64_t> out;
  for (const auto& id : ids) {
    if (id) ++out[*id];
  }
  return out;
}

std::shared_ptr<arrow::fs::FileSystem> LocalFs() { return std::make_shared<arrow::fs::LocalFileSystem>(); }

InputFile FileOf(const FileProfile& profile) {
  InputFile file;
  file.rows = profile.rows;
  file.row_groups = profile.row_groups;
  return file;
}

// Interleaved listings (the vendor's usual time order), some null ids, uneven row groups.
Ids Interleaved() {
  Ids ids;
  for (int i = 0; i < 1000; ++i)
    ids.push_back(i % 13 == 5 ? std::nullopt : std::optional<int64_t>(100 + (i * 7) % 11));
  return ids;
}

TEST(SizeProfile, InterleavedListingsAreCountedExactlyByScanning) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/trades.parquet";
  const Ids ids = Interleaved();
  WriteFileRowGroups(Trades(ids), path, {300, 300, 400});
  auto profile = ProfileFile(LocalFs(), path, path, Table::kTrades);
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  EXPECT_TRUE(profile->listings_known);
  EXPECT_EQ(profile->rows, 1000);
  EXPECT_EQ(profile->num_row_groups, 3);
  EXPECT_EQ(profile->listing_rows, CountOf(ids));
  EXPECT_EQ(profile->scanned_rows, 1000);  // no row group holds a single listing
  ASSERT_EQ(profile->row_groups.size(), 3u);
  EXPECT_EQ(profile->row_groups[0].min_listing, 100);
  EXPECT_EQ(profile->row_groups[0].max_listing, 110);
  EXPECT_FALSE(CheckClustering(FileOf(*profile)).clustered);
  EXPECT_NE(CheckClustering(FileOf(*profile)).reason.find("row groups 0 and 1 overlap"), std::string::npos);

  // Bytes per row from the metadata: fixed widths + a validity bit, strings exact from the size
  // statistics (+ int32 offset + validity bit).
  EXPECT_DOUBLE_EQ(profile->bytes_per_row.at("ListingId"), 8.125);
  EXPECT_DOUBLE_EQ(profile->bytes_per_row.at("TradeTimestamp"), 8.125);
  EXPECT_DOUBLE_EQ(profile->bytes_per_row.at("MIC"), 4 + 0.125 + 4);
  EXPECT_DOUBLE_EQ(profile->bytes_per_row.at("Classification"), 4 + 0.125 + (14.0 + 20.0) / 2);
  auto projected = ProjectedBytesPerRow(*profile, {"ListingId", "TradeTimestamp", "LocalPrice"}, path);
  ASSERT_TRUE(projected.ok());
  EXPECT_DOUBLE_EQ(*projected, 3 * 8.125);  // LocalPrice is derived: one float64
  auto missing = ProjectedBytesPerRow(*profile, {"ListingId", "BidPrice1"}, path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(path), std::string::npos);
  EXPECT_NE(missing.status().message().find("'BidPrice1'"), std::string::npos);
}

TEST(SizeProfile, FarApartListingIdsAreCountedExactlyToo) {
  // Ids spread far wider than a read batch (counted run by run, not in a dense array), with
  // runs, interleaving and nulls.
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/trades.parquet";
  Ids ids;
  for (int i = 0; i < 1000; ++i) {
    const int64_t id = i < 200 ? 7 : (i % 3 == 0 ? 5'000'000'000'000 : 1 + int64_t{i % 4} * 1'000'000'000);
    ids.push_back(i % 17 == 3 ? std::nullopt : std::optional<int64_t>(id));
  }
  WriteFileRowGroups(Trades(ids), path, {500, 500});
  auto profile = ProfileFile(LocalFs(), path, path, Table::kTrades);
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  EXPECT_EQ(profile->listing_rows, CountOf(ids));
  EXPECT_EQ(profile->listing_rows.size(), 6u);
}

TEST(SizeProfile, ClusteredFileIsCountedFromRowGroupStatistics) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/trades.parquet";
  // Listing 7 spans two row groups (shared boundary), 9 has a null id in its row group.
  Ids ids;
  std::vector<int64_t> groups;
  for (auto [id, n] : std::vector<std::pair<int64_t, int64_t>>{{3, 50}, {5, 20}, {7, 64}, {7, 10}, {9, 33}}) {
    for (int64_t i = 0; i < n; ++i) ids.push_back(id);
    groups.push_back(n);
  }
  ids[ids.size() - 1] = std::nullopt;
  WriteFileRowGroups(Trades(ids), path, groups);
  auto profile = ProfileFile(LocalFs(), path, path, Table::kTrades);
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  EXPECT_EQ(profile->scanned_rows, 0);  // statistics alone
  EXPECT_EQ(profile->listing_rows, (std::map<int64_t, int64_t>{{3, 50}, {5, 20}, {7, 74}, {9, 32}}));
  EXPECT_EQ(profile->listing_rows, CountOf(ids));
  EXPECT_TRUE(CheckClustering(FileOf(*profile)).clustered);
  const InputFile file = FileOf(*profile);
  const std::vector<int64_t> batch{7};
  EXPECT_EQ(RowGroupsForListings(file, batch), (std::vector<int>{2, 3}));
}

TEST(SizeProfile, SortedFileScansOnlyItsMultiListingRowGroups) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/trades.parquet";
  Ids ids;
  for (auto [id, n] : std::vector<std::pair<int64_t, int64_t>>{{1, 10}, {2, 150}, {3, 5}, {4, 35}}) {
    for (int64_t i = 0; i < n; ++i) ids.push_back(id);
  }
  // Row groups: [1 x10, 2 x90] (mixed), [2 x60] (one listing), [3 x5, 4 x35] (mixed).
  WriteFileRowGroups(Trades(ids), path, {100, 60, 40});
  auto profile = ProfileFile(LocalFs(), path, path, Table::kTrades);
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  EXPECT_EQ(profile->listing_rows, CountOf(ids));
  EXPECT_EQ(profile->scanned_rows, 140);  // row group 1 ([2, 2]) came from its statistics
  EXPECT_TRUE(CheckClustering(FileOf(*profile)).clustered);
}

TEST(SizeProfile, BadFilesAreErrorsNamingTheFile) {
  testing::TempDir tmp;
  const std::string not_parquet = tmp.path() + "/junk.parquet";
  std::ofstream(not_parquet) << "this is not parquet";
  auto junk = ProfileFile(LocalFs(), not_parquet, "lake/junk.parquet", Table::kTrades);
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.status().message().find("lake/junk.parquet"), std::string::npos) << junk.status().ToString();

  // No ListingId column.
  const std::string no_id = tmp.path() + "/no_id.parquet";
  WriteFileRowGroups(Trades({1, 2, 3})->RemoveColumn(0).ValueOrDie(), no_id, {3});
  auto missing = ProfileFile(LocalFs(), no_id, "lake/no_id.parquet", Table::kTrades);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("lake/no_id.parquet"), std::string::npos);
  EXPECT_NE(missing.status().message().find("'ListingId'"), std::string::npos);
}

TEST(SizeProfile, UndecodableListingIdsMakeSizesUnknownNotZero) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/trades.parquet";
  WriteFileRowGroups(Trades(Interleaved()), path, {1000}, /*compress=*/false);
  // Overwrite the ListingId data page (header and values) with garbage; the footer stays intact.
  auto metadata = parquet::ReadMetaData(arrow::io::ReadableFile::Open(path).ValueOrDie());
  const int64_t offset = metadata->RowGroup(0)->ColumnChunk(0)->data_page_offset();
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offset);
    const std::string garbage(64, '\xff');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto profile = ProfileFile(LocalFs(), path, path, Table::kTrades);
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  EXPECT_FALSE(profile->listings_known);
  EXPECT_TRUE(profile->listing_rows.empty());
  EXPECT_FALSE(profile->unknown_reason.empty());
}

TEST(SizeCache, SecondProfileComesFromTheCacheWithoutScanning) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/trades.parquet";
  const std::string cache_dir = tmp.path() + "/cache";
  const Ids ids = Interleaved();
  WriteFileRowGroups(Trades(ids), path, {500, 500});

  auto first_cache = SizeCache::Open(cache_dir, {});
  ASSERT_TRUE(first_cache.ok());
  const std::string entry = (*first_cache)->EntryPath(path);
  SizeEstimator first(LocalFs(), std::move(*first_cache));
  auto a = first.Profile(path, path, Table::kTrades);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(first.stats().cache_hits, 0);
  EXPECT_EQ(first.stats().scanned_files, 1);
  EXPECT_EQ(first.stats().cache_writes, 1);
  EXPECT_TRUE(std::filesystem::is_regular_file(entry));

  // A fresh estimator (a re-plan) reads the entry and does no scan.
  SizeEstimator second(LocalFs(), SizeCache::Open(cache_dir, {}).ValueOrDie());
  auto b = second.Profile(path, path, Table::kTrades);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(second.stats().cache_hits, 1);
  EXPECT_EQ(second.stats().scanned_files, 0);
  EXPECT_EQ(second.stats().scanned_rows, 0);
  EXPECT_EQ(b->listing_rows, a->listing_rows);
  EXPECT_EQ(b->row_groups.size(), a->row_groups.size());
  EXPECT_EQ(b->bytes_per_row, a->bytes_per_row);

  // The answer really is the entry's: doctor it (same key) and the doctored count comes back.
  auto stamp = StampOf(*LocalFs(), path).ValueOrDie();
  ASSERT_TRUE(stamp.has_value());
  FileProfile doctored = *a;
  doctored.listing_rows[100] = 1;
  std::ofstream(entry, std::ios::trunc) << SerializeProfile(*stamp, doctored);
  SizeEstimator third(LocalFs(), SizeCache::Open(cache_dir, {}).ValueOrDie());
  EXPECT_EQ(third.Profile(path, path, Table::kTrades)->listing_rows.at(100), 1);
}

TEST(SizeCache, ChangedFileIsProfiledAgain) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/trades.parquet";
  const std::string cache_dir = tmp.path() + "/cache";
  WriteFileRowGroups(Trades(Interleaved()), path, {1000});
  SizeEstimator first(LocalFs(), SizeCache::Open(cache_dir, {}).ValueOrDie());
  ASSERT_TRUE(first.Profile(path, path, Table::kTrades).ok());

  const Ids other{1, 1, 2};
  WriteFileRowGroups(Trades(other), path, {3});
  std::filesystem::last_write_time(path, std::filesystem::last_write_time(path) + std::chrono::seconds(5));
  SizeEstimator second(LocalFs(), SizeCache::Open(cache_dir, {}).ValueOrDie());
  auto profile = second.Profile(path, path, Table::kTrades);
  ASSERT_TRUE(profile.ok());
  EXPECT_EQ(second.stats().cache_hits, 0);
  EXPECT_EQ(profile->listing_rows, CountOf(other));
}

TEST(SizeCache, CorruptEntryIsIgnoredAndRewritten) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/trades.parquet";
  const std::string cache_dir = tmp.path() + "/cache";
  const Ids ids = Interleaved();
  WriteFileRowGroups(Trades(ids), path, {1000});
  auto cache = SizeCache::Open(cache_dir, {}).ValueOrDie();
  const std::string entry = cache->EntryPath(path);
  std::filesystem::create_directories(cache_dir);
  std::ofstream(entry) << "{\"format\": 1, \"path\": tru";

  SizeEstimator estimator(LocalFs(), std::move(cache));
  auto profile = estimator.Profile(path, path, Table::kTrades);
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  EXPECT_EQ(profile->listing_rows, CountOf(ids));
  EXPECT_EQ(estimator.stats().cache_hits, 0);
  EXPECT_EQ(estimator.stats().cache_writes, 1);
  std::ifstream in(entry);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto stamp = StampOf(*LocalFs(), path).ValueOrDie();
  auto reread = ParseProfile(text, *stamp);
  ASSERT_TRUE(reread.has_value());
  EXPECT_EQ(reread->listing_rows, CountOf(ids));
}

Listing ListingOn(int64_t id, int64_t instrument, const std::string& mic) {
  Listing l;
  l.listing_id = id;
  l.instrument_id = instrument;
  l.mic = mic;
  return l;
}

TEST(SizeEstimate, PerListingRowsBytesAndMemory) {
  Universe universe;
  universe.listings = {ListingOn(1, 10, "XLON"), ListingOn(2, 20, "XLON"), ListingOn(3, 30, "XPAR")};
  FileProfile xlon;
  xlon.listing_rows = {{1, 100}, {99, 5}};  // listing 99 is not in the universe
  FileProfile xpar;
  xpar.listing_rows = {{3, 10}};
  const std::vector<FileEstimate> files{{Table::kTrades, "XLON", &xlon, 2.5},
                                        {Table::kTrades, "XPAR", &xpar, 4.0}};
  const auto sizes = EstimateListingSizes(universe, files);
  ASSERT_EQ(sizes.size(), 3u);
  const size_t t = TableIndex(Table::kTrades);
  EXPECT_EQ(sizes[0].rows[t], 100);
  EXPECT_EQ(sizes[0].bytes[t], 250u);
  EXPECT_EQ(sizes[0].memory_bytes, 312u);  // 1.25 x the decoded bytes, rounded down
  EXPECT_EQ(sizes[0].instrument_id, 10);
  // No rows in its file: exactly zero, and known.
  EXPECT_EQ(sizes[1].rows[t], 0);
  EXPECT_EQ(sizes[1].memory_bytes, 0u);
  EXPECT_TRUE(sizes[1].estimated);
  EXPECT_EQ(sizes[2].bytes[t], 40u);
}

TEST(SizeEstimate, UnknownFileMakesItsListingsUnknownNeverZero) {
  Universe universe;
  universe.listings = {ListingOn(1, 0, "XLON"), ListingOn(2, 0, "XLON"), ListingOn(3, 0, "XPAR")};
  FileProfile xlon;
  xlon.listing_rows = {{1, 100}, {2, 300}};
  FileProfile broken;
  broken.listings_known = false;
  const std::vector<FileEstimate> files{{Table::kTrades, "XLON", &xlon, 1.0},
                                        {Table::kTrades, "XPAR", &broken, 1.0}};
  const auto sizes = EstimateListingSizes(universe, files);
  EXPECT_TRUE(sizes[0].estimated);
  EXPECT_TRUE(sizes[1].estimated);
  EXPECT_FALSE(sizes[2].estimated);
  // Its figures are the largest seen, not zero.
  EXPECT_EQ(sizes[2].rows[TableIndex(Table::kTrades)], 300);
  EXPECT_EQ(sizes[2].memory_bytes, sizes[1].memory_bytes);
  EXPECT_GT(sizes[2].memory_bytes, 0u);
}

}  // namespace
}  // namespace intraday

namespace intraday {
namespace {

TEST(OutputMemory, RowsBoundFollowsTheTimeline) {
  PassConfig pass;
  pass.bucket_ns = 60'000'000'000;  // 1 minute: 1 440 buckets in a day
  ListingSize size;
  size.rows = {30, 20, 0, 4};  // 54 events
  pass.timeline = Timeline::kDense;
  EXPECT_EQ(OutputRowsBound(pass, size), 1441u);  // the session is not known: the whole day
  pass.timeline = Timeline::kSparse;
  EXPECT_EQ(OutputRowsBound(pass, size), 54u);  // at most a bucket per event
  size.rows = {3000, 0, 0, 0};
  EXPECT_EQ(OutputRowsBound(pass, size), 1441u);  // and never more than the day's buckets
  pass.timeline = Timeline::kDaily;
  EXPECT_EQ(OutputRowsBound(pass, size), 1u);
  pass.timeline = Timeline::kDense;
  pass.bucket_ns = 1'000'000'000;  // 1 second
  EXPECT_EQ(OutputRowsBound(pass, size), 86'401u);
}

TEST(OutputMemory, DayBoundOverTheUniverse) {
  PassConfig pass;
  pass.bucket_ns = 60'000'000'000;  // 1 441 rows at most per listing
  ListingSize every_row;
  every_row.rows = {300, 200, 0, 40};  // 540 events over every listing of the files
  pass.timeline = Timeline::kDense;
  EXPECT_EQ(OutputRowsBoundOfDay(pass, every_row, 10), 14'410u);  // every bucket of each listing
  pass.timeline = Timeline::kDaily;
  EXPECT_EQ(OutputRowsBoundOfDay(pass, every_row, 10), 10u);
  // Sparse: no more rows than events in all, nor than each listing's buckets.
  pass.timeline = Timeline::kSparse;
  EXPECT_EQ(OutputRowsBoundOfDay(pass, every_row, 10), 540u);
  every_row.rows = {100'000, 0, 0, 0};
  EXPECT_EQ(OutputRowsBoundOfDay(pass, every_row, 10), 14'410u);
}

TEST(OutputMemory, IsAddedToEachListingsWorkerMemory) {
  PassConfig pass;
  pass.bucket_ns = 3'600'000'000'000;  // 1 hour: 25 rows at most
  pass.timeline = Timeline::kDense;
  std::vector<ListingSize> sizes(2);
  sizes[0].memory_bytes = 1000;
  sizes[1].memory_bytes = 0;
  AddOutputMemory(pass, 100, &sizes);
  EXPECT_EQ(sizes[0].output_bytes, 2500u);
  EXPECT_EQ(sizes[0].memory_bytes, 3500u);
  EXPECT_EQ(sizes[1].memory_bytes, 2500u);
}

TEST(OutputMemory, RowBytesCountValuesValidityAndStrings) {
  const auto schema =
      arrow::schema({arrow::field("ListingId", arrow::int64()),
                     arrow::field("TimeBucket", arrow::timestamp(arrow::TimeUnit::NANO)),
                     arrow::field("Volume", arrow::float64()), arrow::field("Open", arrow::int32()),
                     arrow::field("MarketState", arrow::utf8())});
  // 3 x 64 + 32 + 128 bits of values, 5 validity bits: 357 bits.
  EXPECT_EQ(OutputRowBytes(*schema), 45u);
}

}  // namespace
}  // namespace intraday
