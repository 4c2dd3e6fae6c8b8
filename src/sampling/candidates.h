// The candidate array the sampler chain works on: one (id, logit, p) per token still in play,
// built from a row of logits, and the sorting and softmax the steps share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace locara::sampling {

// Returned where no token can be chosen (every logit banned or NaN, or a logits row of the
// wrong length). Never a valid token id; the same value as the tokenizer's locara::kNoToken.
inline constexpr int32_t kNoToken = -1;

struct TokenCandidate {
  int32_t id = 0;
  float logit = 0.0f;
  float p = 0.0f;  // valid only after CandidateArray::softmax()
};

// Candidates in one of two orders: id order right after assign(), or "sorted": descending
// logit with ties broken by ascending id. The tie rule makes the order a total order, so the
// result never depends on the standard library's sort algorithm.
// Thread-compatible; a Sampler keeps one and reuses its storage for every token.
class CandidateArray {
 public:
  // Resets to one candidate per logit, in id order, unsorted, p = 0. A NaN logit becomes -inf
  // (it can never be sampled) because NaN would break every comparison below.
  void assign(std::span<const float> logits);

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  bool sorted() const { return sorted_prefix_ >= items_.size(); }
  TokenCandidate& operator[](size_t i) { return items_[i]; }
  const TokenCandidate& operator[](size_t i) const { return items_[i]; }
  std::span<TokenCandidate> items() { return items_; }
  std::span<const TokenCandidate> items() const { return items_; }

  // Puts the k best candidates first, in sorted order, the rest after them in unspecified
  // order. O(n log k); free when that prefix is already sorted.
  void sort_prefix(size_t k);
  void sort() { sort_prefix(items_.size()); }

  // For a step that changes logits in a way that can reorder them (penalties, bans): the array
  // no longer counts as sorted. Monotone changes (dividing by a temperature) keep the order.
  void forget_order() { sorted_prefix_ = 0; }

  // Keeps the first n candidates (n >= size() keeps all).
  void truncate(size_t n);

  // Keeps the candidates for which keep(c) holds, preserving their order (and so sortedness).
  template <typename Predicate>
  void keep_if(Predicate keep) {
    size_t out = 0;
    size_t out_sorted = 0;
    for (size_t i = 0; i < items_.size(); ++i) {
      if (!keep(items_[i])) continue;
      items_[out++] = items_[i];
      if (i < sorted_prefix_) out_sorted = out;
    }
    items_.resize(out);
    sorted_prefix_ = out_sorted;
  }

  // p = softmax(logit) over the current candidates: max subtracted, sum in double. +inf logits
  // share all the mass; if every logit is -inf the mass is spread evenly (the sampler removes
  // -inf candidates before it gets here).
  void softmax();

  // Index of the highest logit, the lowest id among equals; size() when empty.
  size_t argmax() const;

 private:
  std::vector<TokenCandidate> items_;
  size_t sorted_prefix_ = 0;  // items_[0, sorted_prefix_) are the best ones, in sorted order
};

// The strict order of a sorted array: higher logit first, then lower id.
inline bool ranks_before(const TokenCandidate& a, const TokenCandidate& b) {
  if (a.logit != b.logit) return a.logit > b.logit;
  return a.id < b.id;
}

}  // namespace locara::sampling
