// The worker's one way of using its threads: an index range shared out over a few threads, each
// taking the next index when it is free; and listings cut into contiguous chunks for them.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "common/status.h"

namespace intraday {

/// Runs fn(0) .. fn(n - 1) on up to `threads` threads; the first error wins.
inline Status ParallelFor(size_t n, int threads, const std::function<Status(size_t)>& fn) {
  const size_t workers = std::min(n, static_cast<size_t>(std::max(1, threads)));
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) INTRADAY_RETURN_NOT_OK(fn(i));
    return Status::OK();
  }
  std::vector<Status> status(n);
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) status[i] = fn(i);
    });
  }
  for (auto& t : pool) t.join();
  for (const auto& st : status) INTRADAY_RETURN_NOT_OK(st);
  return Status::OK();
}

/// Listings cut into at most `chunks` contiguous chunks of about equal rows (`rows[l]`: listing
/// l's input rows): the first listing of each chunk, then rows.size() (no listing: one empty
/// chunk). Chunks are computed in parallel and their outputs concatenated in order, so the cut
/// never changes the output.
inline std::vector<size_t> ChunksOfListings(const std::vector<int64_t>& rows, size_t chunks) {
  const size_t n = rows.size();
  chunks = std::min(n, chunks);
  int64_t total = 0;
  for (int64_t r : rows) total += r;
  std::vector<size_t> begin{0};
  int64_t acc = 0;
  for (size_t l = 0; l < n && chunks > 1; ++l) {
    acc += rows[l];
    if (acc * static_cast<int64_t>(chunks) >= total * static_cast<int64_t>(begin.size()) && l + 1 < n &&
        begin.size() < chunks)
      begin.push_back(l + 1);
  }
  begin.push_back(n);
  return begin;
}

}  // namespace intraday
