// A progress bar on stderr for long-running commands (synth, quantize): redrawn in place
// on a terminal, one line per tenth of the work when stderr is a file or a pipe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace locara::cli {

// Not thread-safe: one thread reports progress.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  // fraction in [0, 1]; detail: what is being worked on now.
  void update(double fraction, std::string_view detail);
  // Ends the bar's line (a terminal's bar stays, completed).
  void finish();

 private:
  std::string label_;
  bool terminal_;
  int last_tenth_ = -1;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace locara::cli
