// The worker's one way of using its threads: an index range shared out over a few threads, each
// taking the next index when it is free; and listings cut into contiguous chunks for them.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"

namespace intraday {

namespace parallel_internal {

/// The threads ParallelFor runs its work on besides the caller's, kept between calls: each
/// thread's allocator heap, with the memory it already touched, serves the next call's work
/// (new threads each call left their heaps' pages to be reclaimed and took fresh ones).
class ThreadSet {
 public:
  /// The process's set: a worker process runs one task, and its calls follow one another.
  static ThreadSet& Shared() {
    static ThreadSet threads;
    return threads;
  }
  ~ThreadSet() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& thread : threads_) thread.join();
  }
  /// Runs `body` on `extra` threads of the set (started as needed) and on the caller's; returns
  /// once every run ended. A call made from a body (nested) runs on threads of its own.
  void Run(size_t extra, const std::function<void()>& body) {
    std::unique_lock lock(mutex_);
    if (busy_) {
      lock.unlock();
      RunOnNewThreads(extra, body);
      return;
    }
    busy_ = true;
    while (threads_.size() < extra) threads_.emplace_back([this, index = threads_.size()] { Loop(index); });
    body_ = &body;
    wanted_ = extra;
    left_ = extra;
    ++generation_;
    lock.unlock();
    wake_.notify_all();
    // The kept threads run `body` until they are done with it, whatever the caller's run does.
    std::exception_ptr error;
    try {
      body();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    done_.wait(lock, [&] { return left_ == 0; });
    body_ = nullptr;
    busy_ = false;
    lock.unlock();
    if (error) std::rethrow_exception(error);
  }

 private:
  static void RunOnNewThreads(size_t extra, const std::function<void()>& body) {
    std::vector<std::thread> pool;
    for (size_t i = 0; i < extra; ++i) pool.emplace_back(body);
    std::exception_ptr error;
    try {
      body();
    } catch (...) {
      error = std::current_exception();
    }
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
  }
  void Loop(size_t index) {
    uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || (generation_ != seen && index < wanted_); });
      if (stopping_) return;
      seen = generation_;
      const std::function<void()>* body = body_;
      lock.unlock();
      (*body)();
      lock.lock();
      if (--left_ == 0) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  const std::function<void()>* body_ = nullptr;
  size_t wanted_ = 0, left_ = 0;
  uint64_t generation_ = 0;
  bool busy_ = false, stopping_ = false;
};

}  // namespace parallel_internal

/// Runs fn(0) .. fn(n - 1) on up to `threads` threads (the caller's and kept ones); the first
/// error wins.
inline Status ParallelFor(size_t n, int threads, const std::function<Status(size_t)>& fn) {
  const size_t workers = std::min(n, static_cast<size_t>(std::max(1, threads)));
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) INTRADAY_RETURN_NOT_OK(fn(i));
    return Status::OK();
  }
  std::vector<Status> status(n);
  std::atomic<size_t> next{0};
  parallel_internal::ThreadSet::Shared().Run(workers - 1, [&] {
    for (size_t i = next++; i < n; i = next++) status[i] = fn(i);
  });
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
