#include "sampling/logprobs.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace locara {

std::vector<std::pair<int32_t, float>> top_logprobs(std::span<const float> logits, int n) {
  std::vector<std::pair<int32_t, float>> result;
  if (n <= 0 || logits.empty()) return result;

  constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();
  // NaN would break both the maximum and the sort's strict weak order.
  auto logit_of = [&](size_t id) {
    return std::isnan(logits[id]) ? kMinusInfinity : static_cast<double>(logits[id]);
  };

  double max_logit = kMinusInfinity;
  for (size_t id = 0; id < logits.size(); ++id) max_logit = std::max(max_logit, logit_of(id));
  if (max_logit == kMinusInfinity) return result;

  // log p_i = (x_i - max) - log(sum_j exp(x_j - max)). The equality test gives the maximum an
  // exact weight of 1 even when it is +inf (where x - max would be NaN).
  double sum = 0.0;
  for (size_t id = 0; id < logits.size(); ++id) {
    const double x = logit_of(id);
    sum += x == max_logit ? 1.0 : std::exp(x - max_logit);
  }
  const double log_sum = std::log(sum);

  const size_t count = std::min(static_cast<size_t>(n), logits.size());
  std::vector<int32_t> ids(logits.size());
  for (size_t id = 0; id < ids.size(); ++id) ids[id] = static_cast<int32_t>(id);
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(count), ids.end(),
                    [&](int32_t a, int32_t b) {
                      const double la = logit_of(static_cast<size_t>(a));
                      const double lb = logit_of(static_cast<size_t>(b));
                      return la != lb ? la > lb : a < b;
                    });

  result.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const double x = logit_of(static_cast<size_t>(ids[i]));
    const double shifted = x == max_logit ? 0.0 : x - max_logit;
    result.emplace_back(ids[i], static_cast<float>(shifted - log_sum));
  }
  return result;
}

}  // namespace locara
