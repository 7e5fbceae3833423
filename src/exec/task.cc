#include "exec/task.h"

#include <nlohmann/json.hpp>

namespace intraday {
namespace {

using nlohmann::json;

template <typename Fn>
auto ParseJson(const std::string& text, const char* what, Fn&& fn) -> decltype(fn(json())) {
  try {
    return fn(json::parse(text));
  } catch (const std::exception& e) {
    return Status::Invalid("malformed ", what, ": ", e.what());
  }
}

}  // namespace

std::string TaskToJson(const Task& task) {
  json inputs = json::array();
  for (const auto& input : task.inputs) {
    inputs.push_back({{"table", SpecOf(input.table).key},
                      {"path", input.path},
                      {"display_path", input.display_path},
                      {"row_groups", input.row_groups},
                      {"spill", input.spill}});
  }
  const json j = {{"config_file", task.config_file},
                  {"config_hash", task.config_hash},
                  {"pass", task.pass},
                  {"day", task.day.ToString()},
                  {"batch", task.batch},
                  {"attempt", task.attempt},
                  {"listings", task.listings},
                  {"inputs", inputs},
                  {"source_files", task.source_files},
                  {"output_path", task.output_path},
                  {"day_file", task.day_file},
                  {"result_path", task.result_path},
                  {"delete_spill_inputs", task.delete_spill_inputs},
                  {"threads", task.threads},
                  {"stream_over_time", task.stream_over_time},
                  {"memory_budget", task.memory_budget},
                  {"time_slice_bytes", task.time_slice_bytes},
                  {"slice_output_spilled", task.slice_output_spilled},
                  {"huge_pages", task.huge_pages},
                  {"day_file_compression", task.day_file_compression.codec},
                  {"day_file_compression_level",
                   task.day_file_compression.level ? json(*task.day_file_compression.level) : json(nullptr)}};
  return j.dump(1);
}

Result<Task> TaskFromJson(const std::string& text) {
  return ParseJson(text, "task", [](const json& j) -> Result<Task> {
    Task task;
    task.config_file = j.at("config_file").get<std::string>();
    task.config_hash = j.at("config_hash").get<std::string>();
    task.pass = j.at("pass").get<std::string>();
    INTRADAY_ASSIGN_OR_RAISE(task.day, Date::Parse(j.at("day").get<std::string>()));
    task.batch = j.at("batch").get<int>();
    task.attempt = j.at("attempt").get<int>();
    task.listings = j.at("listings").get<std::vector<int64_t>>();
    for (const auto& in : j.at("inputs")) {
      TaskInput input;
      INTRADAY_ASSIGN_OR_RAISE(input.table, TableFromKey(in.at("table").get<std::string>()));
      input.path = in.at("path").get<std::string>();
      input.display_path = in.at("display_path").get<std::string>();
      input.row_groups = in.at("row_groups").get<std::vector<int>>();
      input.spill = in.at("spill").get<bool>();
      task.inputs.push_back(std::move(input));
    }
    task.source_files = j.at("source_files").get<std::vector<std::string>>();
    task.output_path = j.at("output_path").get<std::string>();
    task.day_file = j.value("day_file", std::string());
    task.result_path = j.at("result_path").get<std::string>();
    task.delete_spill_inputs = j.at("delete_spill_inputs").get<bool>();
    task.threads = j.value("threads", 1);
    task.stream_over_time = j.value("stream_over_time", false);
    task.memory_budget = j.value("memory_budget", uint64_t{0});
    task.time_slice_bytes = j.value("time_slice_bytes", uint64_t{0});
    task.slice_output_spilled = j.value("slice_output_spilled", false);
    task.huge_pages = j.value("huge_pages", true);
    task.day_file_compression.codec = j.value("day_file_compression", std::string("zstd"));
    if (j.contains("day_file_compression_level") && !j.at("day_file_compression_level").is_null())
      task.day_file_compression.level = j.at("day_file_compression_level").get<int>();
    return task;
  });
}

std::string TaskResultToJson(const TaskResult& result) {
  json listing_rows = json::object();
  for (const auto& [table, rows] : result.listing_rows) listing_rows[std::string(SpecOf(table).key)] = rows;
  const json j = {{"input_rows", result.input_rows},
                  {"output_rows", result.output_rows},
                  {"output_bytes", result.output_bytes},
                  {"compute_seconds", result.compute_seconds},
                  {"peak_rss_bytes", result.peak_rss_bytes},
                  {"listing_rows", listing_rows},
                  {"time_slices", result.time_slices},
                  {"slice_output_bytes", result.slice_output_bytes},
                  {"slice_resumed_reads", result.slice_resumed_reads},
                  {"slice_held_rows", result.slice_held_rows},
                  {"slice_released_readers", result.slice_released_readers},
                  {"stream_fallback", result.stream_fallback},
                  {"sorted_listings", result.sorted_listings},
                  {"page_column_chunks", result.page_column_chunks},
                  {"arrow_column_chunks", result.arrow_column_chunks},
                  {"gathered_listings", result.gathered_listings},
                  {"input_bytes_released", result.input_bytes_released}};
  return j.dump();
}

Result<TaskResult> TaskResultFromJson(const std::string& text) {
  return ParseJson(text, "task result", [](const json& j) -> Result<TaskResult> {
    TaskResult result;
    result.input_rows = j.at("input_rows").get<int64_t>();
    result.output_rows = j.at("output_rows").get<int64_t>();
    result.output_bytes = j.at("output_bytes").get<uint64_t>();
    result.compute_seconds = j.at("compute_seconds").get<double>();
    result.peak_rss_bytes = j.value("peak_rss_bytes", int64_t{0});
    result.time_slices = j.value("time_slices", 0);
    result.slice_output_bytes = j.value("slice_output_bytes", int64_t{0});
    result.slice_resumed_reads = j.value("slice_resumed_reads", int64_t{0});
    result.slice_held_rows = j.value("slice_held_rows", int64_t{0});
    result.slice_released_readers = j.value("slice_released_readers", int64_t{0});
    result.stream_fallback = j.value("stream_fallback", std::string());
    result.sorted_listings = j.value("sorted_listings", int64_t{0});
    result.page_column_chunks = j.value("page_column_chunks", int64_t{0});
    result.arrow_column_chunks = j.value("arrow_column_chunks", int64_t{0});
    result.gathered_listings = j.value("gathered_listings", int64_t{0});
    result.input_bytes_released = j.value("input_bytes_released", int64_t{0});
    if (j.contains("listing_rows")) {
      for (const auto& [key, rows] : j.at("listing_rows").items()) {
        INTRADAY_ASSIGN_OR_RAISE(Table table, TableFromKey(key));
        result.listing_rows[table] = rows.get<std::vector<int64_t>>();
      }
    }
    return result;
  });
}

}  // namespace intraday
