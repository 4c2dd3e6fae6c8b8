#include "cli/progress_bar.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace locara::cli {
namespace {

constexpr int kBarWidth = 30;

}  // namespace

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)),
      terminal_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void ProgressBar::update(double fraction, std::string_view detail) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (terminal_) {
    // Redrawing costs a write per call; ten per second is smooth enough.
    if (drawn_ && fraction < 1.0 && now - last_draw_ < std::chrono::milliseconds(100)) return;
    const int filled = static_cast<int>(fraction * kBarWidth);
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < kBarWidth) bar += '>';
    bar.resize(kBarWidth, ' ');
    // \33[K clears what a longer previous detail left on the line.
    fmt::print(stderr, "\r{} [{}] {:3.0f}% {:5.1f}s {}\33[K", label_, bar, fraction * 100.0,
               elapsed, detail);
    std::fflush(stderr);
    drawn_ = true;
    last_draw_ = now;
    return;
  }
  const int tenth = static_cast<int>(fraction * 10.0);
  if (tenth == last_tenth_) return;
  last_tenth_ = tenth;
  fmt::print(stderr, "{}: {:3d}% {:5.1f}s {}\n", label_, tenth * 10, elapsed, detail);
}

void ProgressBar::finish() {
  if (terminal_ && drawn_) fmt::print(stderr, "\n");
  drawn_ = false;
}

}  // namespace locara::cli
