#include "exec/progress.h"

#include <cstdio>

#include <fmt/format.h>

namespace intraday {
namespace {

std::string Clock(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  return fmt::format("{:02d}:{:02d}:{:02d}", s / 3600, s / 60 % 60, s % 60);
}

std::string Rate(double per_second) {
  if (per_second >= 1e6) return fmt::format("{:.1f}M", per_second / 1e6);
  if (per_second >= 1e3) return fmt::format("{:.1f}k", per_second / 1e3);
  return fmt::format("{:.0f}", per_second);
}

}  // namespace

Progress::Progress(bool interactive, int total_days) : interactive_(interactive), total_days_(total_days) {}

void Progress::StartDay(const std::string& pass, const std::string& day, int batches) {
  pass_ = pass;
  day_ = day;
  batches_ = batches;
  batches_done_ = 0;
  Draw();
}

void Progress::BatchDone(int64_t input_rows) {
  ++batches_done_;
  rows_ += input_rows;
  Draw();
}

void Progress::DayDone(int64_t output_rows, double seconds) {
  ++days_done_;
  if (interactive_) {
    Draw();
  } else {
    std::fprintf(stderr, "[intraday] %s %s done: %d batches, %lld output rows in %.1fs (%d/%d days)\n",
                 pass_.c_str(), day_.c_str(), batches_, static_cast<long long>(output_rows), seconds,
                 days_done_, total_days_);
  }
}

void Progress::SkipDay(const std::string& pass, const std::string& day, const std::string& why) {
  ++days_done_;
  Clear();
  std::fprintf(stderr, "[intraday] %s %s skipped: %s\n", pass.c_str(), day.c_str(), why.c_str());
}

void Progress::Clear() {
  if (interactive_ && line_shown_) {
    std::fprintf(stderr, "\r\033[K");
    line_shown_ = false;
  }
}

void Progress::Draw() {
  if (!interactive_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double done = days_done_ + (batches_ > 0 ? static_cast<double>(batches_done_) / batches_ : 0.0);
  const std::string eta =
      done > 0 && done < total_days_ ? Clock(elapsed / done * (total_days_ - done)) : "--:--:--";
  std::fprintf(stderr, "\r\033[K%s %s | day %d/%d | batches %d/%d | %s rows/s | elapsed %s | ETA %s",
               pass_.c_str(), day_.c_str(), std::min(days_done_ + 1, total_days_), total_days_, batches_done_,
               batches_, Rate(elapsed > 0 ? static_cast<double>(rows_) / elapsed : 0).c_str(),
               Clock(elapsed).c_str(), eta.c_str());
  std::fflush(stderr);
  line_shown_ = true;
}

}  // namespace intraday
