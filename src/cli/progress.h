// A one-line progress bar on stderr, drawn only when stderr is a terminal.
//
// Long imports and generations report progress; in CI logs and pipes the bar stays silent so
// output is clean. Update() is cheap to call often: it redraws at most ten times a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace joinedup::cli {

class ProgressBar {
 public:
  // `label` is shown before the bar; `unit` after the counts ("patients", "MB").
  ProgressBar(std::string label, std::string unit);
  ~ProgressBar();  // finishes the line if anything was drawn
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void Update(uint64_t done, uint64_t total);
  void Finish();

  static bool StderrIsTerminal();

 private:
  void Draw(uint64_t done, uint64_t total);

  std::string label_;
  std::string unit_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace joinedup::cli
