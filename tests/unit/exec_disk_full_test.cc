// A full disk is recognised wherever a write fails (common/io_errors.h) and restated as one clear
// error (exec/disk_full.h). The ENOSPC here is real: writes go to /dev/full, which the kernel
// answers with "No space left on device", directly or through a symlink at the path written.
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <arrow/builder.h>
#include <arrow/io/file.h>
#include <arrow/ipc/writer.h>
#include <arrow/record_batch.h>
#include <gtest/gtest.h>

#include "common/io_errors.h"
#include "exec/day_output.h"
#include "exec/disk_full.h"
#include "exec/task.h"
#include "test_support.h"

namespace intraday {
namespace {

constexpr const char* kDevFull = "/dev/full";

#define REQUIRE_DEV_FULL() \
  if (::access(kDevFull, W_OK) != 0) GTEST_SKIP() << kDevFull << " is not writable here"

std::shared_ptr<arrow::Schema> DiskFullSchema() {
  return arrow::schema({arrow::field("ListingId", arrow::int64(), false),
                        arrow::field("TimeBucket", arrow::timestamp(arrow::TimeUnit::NANO), false)});
}

std::shared_ptr<arrow::RecordBatch> Rows(int64_t count) {
  arrow::Int64Builder ids;
  arrow::TimestampBuilder times(arrow::timestamp(arrow::TimeUnit::NANO), arrow::default_memory_pool());
  for (int64_t r = 0; r < count; ++r) {
    EXPECT_TRUE(ids.Append(1 + r / 100).ok());
    EXPECT_TRUE(times.Append(r % 100).ok());
  }
  return arrow::RecordBatch::Make(DiskFullSchema(), count,
                                  {ids.Finish().ValueOrDie(), times.Finish().ValueOrDie()});
}

RunConfig Locations() {
  RunConfig run;
  run.output = "/data/out";
  run.scratch = "/fast/scratch";
  return run;
}

TEST(DiskFull, RecognisedByErrnoOrByTheCLibrarysWords) {
  EXPECT_TRUE(IsDiskFull(ErrnoError(ENOSPC, "cannot write ", "/x")));
  EXPECT_TRUE(IsDiskFull(ErrnoError(EDQUOT, "cannot write ", "/x")));
  EXPECT_FALSE(IsDiskFull(ErrnoError(EACCES, "cannot write ", "/x")));
  EXPECT_FALSE(IsDiskFull(Status::OK()));
  EXPECT_FALSE(IsDiskFull(Status::IOError("cannot read /x")));
  // The errno survives a new message (WithMessage keeps the detail).
  const Status wrapped = ErrnoError(ENOSPC, "cannot write ", "/x").WithMessage("outer: context");
  EXPECT_TRUE(IsDiskFull(wrapped));
  // Text only, e.g. from a std::error_code message or a worker's log.
  EXPECT_TRUE(IsDiskFull(Status::IOError("cannot create /x: No space left on device")));
  EXPECT_EQ(ErrnoError(ENOSPC, "cannot write ", "/x").message(), "cannot write /x: No space left on device");
}

TEST(DiskFull, TheStopErrorNamesTheFullLocationAndTheWayOn) {
  const RunConfig run = Locations();
  const Status scratch = DiskFullStop(
      ErrnoError(ENOSPC, "cannot write spill file /fast/scratch/r/bars/2026-01-05/x.arrow"), run);
  EXPECT_TRUE(IsDiskFull(scratch));
  EXPECT_EQ(
      scratch.message().rfind("no space left on device in run.scratch (/fast/scratch): cannot write spill "
                              "file /fast/scratch/r/bars/2026-01-05/x.arrow",
                              0),
      0u)
      << scratch.message();
  EXPECT_NE(scratch.message().find("run again with --resume"), std::string::npos);

  const Status output = DiskFullStop(ErrnoError(ENOSPC, "cannot write /data/out/_manifest.json.tmp-1"), run);
  EXPECT_NE(output.message().find("in run.output (/data/out): cannot write /data/out/_manifest.json"),
            std::string::npos)
      << output.message();
  const Status elsewhere = DiskFullStop(ErrnoError(ENOSPC, "cannot write /tmp/x"), run);
  EXPECT_NE(elsewhere.message().find("in the scratch or output filesystem"), std::string::npos);
}

TEST(DiskFull, WriteFileAtomicReportsTheErrnoAndLeavesNoTemporaryFile) {
  REQUIRE_DEV_FULL();
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/_manifest.json";
  // The temporary name the function writes first, made a symlink to the always-full device.
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  std::filesystem::create_symlink(kDevFull, temp);
  const Status st = WriteFileAtomic(path, std::string(100, 'x'));
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(IsDiskFull(st)) << st.ToString();
  EXPECT_NE(st.message().find("cannot write " + temp + ": No space left on device"), std::string::npos)
      << st.message();
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(temp)));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(DiskFull, ArrowWritersKeepTheErrno) {
  REQUIRE_DEV_FULL();
  // The day's Parquet file (exec/day_output.h): a full disk through the Parquet writer.
  testing::TempDir tmp;
  const std::string batch = tmp.path() + "/task-00000.arrow";
  {
    auto file = arrow::io::FileOutputStream::Open(batch).ValueOrDie();
    auto writer = arrow::ipc::MakeFileWriter(file, DiskFullSchema()).ValueOrDie();
    ASSERT_TRUE(writer->WriteRecordBatch(*Rows(50'000)).ok());
    ASSERT_TRUE(writer->Close().ok());
  }
  auto day = WriteDayParquet({batch}, DiskFullSchema(), kDevFull);
  ASSERT_FALSE(day.ok());
  EXPECT_TRUE(IsDiskFull(day.status())) << day.status().ToString();

  // A spill file or a worker's output: an Arrow IPC file.
  auto file = arrow::io::FileOutputStream::Open(kDevFull).ValueOrDie();
  Status st = arrow::ipc::MakeFileWriter(file, DiskFullSchema()).status();
  if (st.ok()) st = file->Write(std::string(1 << 16, 'x').data(), 1 << 16);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(IsDiskFull(st)) << st.ToString();
}

}  // namespace
}  // namespace intraday
