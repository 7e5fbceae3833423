#include "gen/mic_day_writer.h"

#include <algorithm>
#include <limits>
#include <string>

#include <arrow/filesystem/filesystem.h>
#include <arrow/type.h>
#include <parquet/properties.h>

#include "gen/vendor_schema.h"

namespace intraday::gen {
namespace {

// A fixed creator string: the files must not depend on the Arrow version that wrote them.
constexpr const char* kCreatedBy = "intraday generate";

bool IsNearlyUnique(const std::string& column) {
  for (const char* part : {"Timestamp", "Nanoseconds", "SequenceNo", "EventNo", "OrderId", "TradeId",
                           "SizeAhead", "Quantity", "ElapsedTimeChg", "Notional"}) {
    if (column.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace

TableCounts& TableCounts::operator+=(const TableCounts& other) {
  for (size_t i = 0; i < rows.size(); ++i) rows[i] += other.rows[i];
  files += other.files;
  return *this;
}

Result<std::unique_ptr<ParquetFileSink>> ParquetFileSink::Open(const FileSystemRoot& root,
                                                               const std::string& path, Table table) {
  std::unique_ptr<ParquetFileSink> sink(new ParquetFileSink());
  sink->path_ = path;
  const std::string parent = Parent(path);
  if (!parent.empty()) INTRADAY_RETURN_NOT_OK(root.fs->CreateDir(parent, /*recursive=*/true));
  INTRADAY_ASSIGN_OR_RAISE(sink->stream_, root.fs->OpenOutputStream(path));
  parquet::WriterProperties::Builder builder;
  builder.compression(parquet::Compression::SNAPPY)
      ->created_by(kCreatedBy)
      ->max_row_group_length(std::numeric_limits<int64_t>::max() / 2);
  // Dictionary-encoding columns that are nearly unique per row (times, sequence numbers, ids,
  // queue sizes) costs most of the writing time and saves nothing: plain-encode those.
  for (const auto& field : VendorSchema(table)->fields()) {
    if (IsNearlyUnique(field->name())) builder.disable_dictionary(field->name());
  }
  auto properties = builder.build();
  // The Arrow schema travels in the file so that readers get the exact types back (null columns).
  // Columns are encoded in parallel on Arrow's CPU pool: one (day, MIC) task often dominates a
  // run (its busiest listing), and encoding is most of its cost. The bytes do not change.
  auto arrow_properties =
      parquet::ArrowWriterProperties::Builder().store_schema()->set_use_threads(true)->build();
  INTRADAY_ASSIGN_OR_RAISE(
      sink->writer_, parquet::arrow::FileWriter::Open(*VendorSchema(table), arrow::default_memory_pool(),
                                                      sink->stream_, properties, arrow_properties));
  return sink;
}

Status ParquetFileSink::WriteRowGroup(const arrow::RecordBatch& batch) {
  // One buffered row group per batch: starting a new one closes (writes) the previous one.
  auto st = writer_->NewBufferedRowGroup();
  if (st.ok()) st = writer_->WriteRecordBatch(batch);
  if (!st.ok()) return st.WithMessage(path_, ": ", st.message());
  return Status::OK();
}

Status ParquetFileSink::Close() {
  auto st = writer_->Close();
  if (st.ok()) st = stream_->Close();
  if (!st.ok()) return st.WithMessage(path_, ": ", st.message());
  return Status::OK();
}

MicDayWriter::MicDayWriter(const GenerateOptions& options, Date day, const VenueInfo& venue,
                           std::vector<const Listing*> listings)
    : options_(options), listings_(std::move(listings)) {
  ctx_.day = day;
  ctx_.venue = &venue;
  ctx_.listings = listings_;
  ctx_.tz_offset_minutes = UtcOffsetMinutes(venue.tz, day);
}

Result<std::unique_ptr<MicDayWriter>> MicDayWriter::Open(const GenerateOptions& options,
                                                         const FileSystemRoot& root, Date day,
                                                         const VenueInfo& venue,
                                                         std::vector<const Listing*> listings) {
  std::unique_ptr<MicDayWriter> w(new MicDayWriter(options, day, venue, std::move(listings)));
  const std::string mic(venue.mic);
  auto wanted = [&](Table t) {
    return std::find(options.tables.begin(), options.tables.end(), t) != options.tables.end();
  };
  auto open = [&](Table t) -> Result<std::unique_ptr<ParquetFileSink>> {
    INTRADAY_ASSIGN_OR_RAISE(auto relative, ExpandPathTemplate(DefaultPathTemplate(t), t, day, mic));
    return ParquetFileSink::Open(root, root.base_path + "/" + relative, t);
  };
  for (Table t :
       {Table::kTrades, Table::kL2, Table::kL3, Table::kMarketState, Table::kCbbo, Table::kImbalance}) {
    Stream s{t, nullptr};
    if (wanted(t)) {
      INTRADAY_ASSIGN_OR_RAISE(s.sink, open(t));
      ++w->counts_.files;
    }
    w->streams_.push_back(std::move(s));
  }
  if (wanted(Table::kReference)) {
    INTRADAY_ASSIGN_OR_RAISE(w->reference_, open(Table::kReference));
    ++w->counts_.files;
  }
  return w;
}

int64_t MicDayWriter::BufferSize(Table table) {
  switch (table) {
    case Table::kTrades: return buffers_.trades.rows();
    case Table::kL2: return buffers_.l2.rows();
    case Table::kL3: return buffers_.l3.rows();
    case Table::kMarketState: return buffers_.states.rows();
    case Table::kCbbo: return buffers_.cbbo.rows();
    case Table::kImbalance: return buffers_.imbalance.rows();
    case Table::kReference: return 0;
  }
  return 0;
}

void MicDayWriter::EraseFront(Table table, int64_t n) {
  switch (table) {
    case Table::kTrades: buffers_.trades.EraseFront(n); break;
    case Table::kL2: buffers_.l2.EraseFront(n); break;
    case Table::kL3: buffers_.l3.EraseFront(n); break;
    case Table::kMarketState: buffers_.states.EraseFront(n); break;
    case Table::kCbbo: buffers_.cbbo.EraseFront(n); break;
    case Table::kImbalance: buffers_.imbalance.EraseFront(n); break;
    case Table::kReference: break;
  }
}

Result<std::shared_ptr<arrow::RecordBatch>> MicDayWriter::Encode(Table table, int64_t n) {
  switch (table) {
    case Table::kTrades: return EncodeTrades(buffers_.trades, n, ctx_);
    case Table::kL2: return EncodeL2(buffers_.l2, n, ctx_);
    case Table::kL3: return EncodeL3(buffers_.l3, n, ctx_);
    case Table::kMarketState: return EncodeMarketState(buffers_.states, n, ctx_);
    case Table::kCbbo: return EncodeCbbo(buffers_.cbbo, n, ctx_);
    case Table::kImbalance: return EncodeImbalance(buffers_.imbalance, n, ctx_);
    case Table::kReference: return EncodeReference(ctx_);
  }
  return Status::Invalid("unknown table");
}

Status MicDayWriter::WriteGroup(Stream& s, int64_t n) {
  if (n <= 0) return Status::OK();
  INTRADAY_ASSIGN_OR_RAISE(auto batch, Encode(s.table, n));
  INTRADAY_RETURN_NOT_OK(s.sink->WriteRowGroup(*batch));
  counts_[s.table] += n;
  EraseFront(s.table, n);
  return Status::OK();
}

Status MicDayWriter::FlushStream(Stream& s) {
  const int64_t group = options_.row_group_rows;
  if (s.sink == nullptr) {
    // Not written: the rows only had to exist for the model's sake.
    if (BufferSize(s.table) > 0) EraseFront(s.table, BufferSize(s.table));
    return Status::OK();
  }
  while (BufferSize(s.table) >= group) {
    if (options_.layout == Layout::kTime) {
      INTRADAY_RETURN_NOT_OK(WriteGroup(s, group));
    } else if (s.closed_rows > 0) {
      // The current listing outgrows the group it would share: close the complete ones.
      INTRADAY_RETURN_NOT_OK(WriteGroup(s, s.closed_rows));
      s.closed_rows = 0;
    } else {
      INTRADAY_RETURN_NOT_OK(WriteGroup(s, group));
      s.spanning = true;
    }
  }
  return Status::OK();
}

Status MicDayWriter::Flush() {
  for (auto& s : streams_) INTRADAY_RETURN_NOT_OK(FlushStream(s));
  return Status::OK();
}

Status MicDayWriter::EndListing() {
  INTRADAY_RETURN_NOT_OK(Flush());
  for (auto& s : streams_) {
    if (s.sink == nullptr) continue;
    if (s.spanning) {
      // A listing with groups of its own keeps its tail to itself too.
      INTRADAY_RETURN_NOT_OK(WriteGroup(s, BufferSize(s.table)));
      s.spanning = false;
      s.closed_rows = 0;
    } else {
      s.closed_rows = BufferSize(s.table);
    }
  }
  return Status::OK();
}

Status MicDayWriter::Finish() {
  INTRADAY_RETURN_NOT_OK(Flush());
  for (auto& s : streams_) {
    if (s.sink == nullptr) continue;
    INTRADAY_RETURN_NOT_OK(WriteGroup(s, BufferSize(s.table)));
    INTRADAY_RETURN_NOT_OK(s.sink->Close());
  }
  if (reference_ != nullptr) {
    INTRADAY_ASSIGN_OR_RAISE(auto batch, EncodeReference(ctx_));
    INTRADAY_RETURN_NOT_OK(reference_->WriteRowGroup(*batch));
    counts_[Table::kReference] += batch->num_rows();
    INTRADAY_RETURN_NOT_OK(reference_->Close());
  }
  return Status::OK();
}

}  // namespace intraday::gen
