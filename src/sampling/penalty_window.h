// The recent tokens the repetition penalties look at: the last N accepted tokens and how often
// each occurs among them.
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>

namespace locara::sampling {

// A sliding window over accepted tokens with per-token counts kept up to date, so applying the
// penalties costs O(distinct tokens in the window), not O(window) hashing per sampled token.
// Thread-compatible.
class PenaltyWindow {
 public:
  // capacity 0 records nothing; -1 (or any negative value) keeps every token until clear().
  explicit PenaltyWindow(int32_t capacity) : capacity_(capacity) {}

  void push(int32_t token) {
    if (capacity_ == 0) return;
    tokens_.push_back(token);
    ++counts_[token];
    if (capacity_ > 0 && tokens_.size() > static_cast<size_t>(capacity_)) {
      const int32_t oldest = tokens_.front();
      tokens_.pop_front();
      if (--counts_[oldest] == 0) counts_.erase(oldest);
    }
  }

  void clear() {
    tokens_.clear();
    counts_.clear();
  }

  // token -> occurrences in the window (only tokens that occur).
  const std::unordered_map<int32_t, int32_t>& counts() const { return counts_; }
  size_t size() const { return tokens_.size(); }

 private:
  int32_t capacity_;
  std::deque<int32_t> tokens_;  // oldest first
  std::unordered_map<int32_t, int32_t> counts_;
};

}  // namespace locara::sampling
