// What a long run shows while it works: on a terminal, one status line redrawn in place (pass,
// day i/n, batches done/total, rows/s, ETA); otherwise plain log lines, one per finished day.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace intraday {

class Progress {
 public:
  /// `interactive`: redraw a status line (stderr is a terminal); else log lines.
  Progress(bool interactive, int total_days);

  void StartDay(const std::string& pass, const std::string& day, int batches);
  void BatchDone(int64_t input_rows);
  void DayDone(int64_t output_rows, double seconds);
  void SkipDay(const std::string& pass, const std::string& day, const std::string& why);
  /// Clears the status line before a log message.
  void Clear();

 private:
  void Draw();

  bool interactive_;
  int total_days_;
  int days_done_ = 0;
  std::string pass_, day_;
  int batches_ = 0, batches_done_ = 0;
  int64_t rows_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  bool line_shown_ = false;
};

}  // namespace intraday
