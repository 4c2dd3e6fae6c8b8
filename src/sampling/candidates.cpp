#include "sampling/candidates.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace locara::sampling {

void CandidateArray::assign(std::span<const float> logits) {
  items_.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    const float logit = std::isnan(logits[i]) ? -std::numeric_limits<float>::infinity() : logits[i];
    items_[i] = TokenCandidate{static_cast<int32_t>(i), logit, 0.0f};
  }
  sorted_prefix_ = 0;
}

void CandidateArray::sort_prefix(size_t k) {
  k = std::min(k, items_.size());
  if (k <= sorted_prefix_) return;
  const auto middle = items_.begin() + static_cast<std::ptrdiff_t>(k);
  if (k == items_.size()) {
    std::sort(items_.begin(), items_.end(), ranks_before);
  } else {
    std::partial_sort(items_.begin(), middle, items_.end(), ranks_before);
  }
  sorted_prefix_ = k;
}

void CandidateArray::truncate(size_t n) {
  if (n >= items_.size()) return;
  items_.resize(n);
  sorted_prefix_ = std::min(sorted_prefix_, n);
}

void CandidateArray::softmax() {
  if (items_.empty()) return;
  float max_logit = items_[0].logit;
  for (const TokenCandidate& c : items_) max_logit = std::max(max_logit, c.logit);
  // The equality test keeps +inf - +inf (NaN) out: the maximum always weighs exactly 1.
  double sum = 0.0;
  for (TokenCandidate& c : items_) {
    const double weight =
        c.logit == max_logit ? 1.0 : std::exp(static_cast<double>(c.logit) - max_logit);
    c.p = static_cast<float>(weight);
    sum += weight;
  }
  // Each weight is rounded to float once (relative error 6e-8) rather than paying exp twice.
  for (TokenCandidate& c : items_) c.p = static_cast<float>(c.p / sum);
}

size_t CandidateArray::argmax() const {
  size_t best = items_.size();
  for (size_t i = 0; i < items_.size(); ++i) {
    if (best == items_.size() || ranks_before(items_[i], items_[best])) best = i;
  }
  return best;
}

}  // namespace locara::sampling
