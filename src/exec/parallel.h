// The worker's one way of using its threads: an index range shared out over a few threads, each
// taking the next index when it is free.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
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

}  // namespace intraday
