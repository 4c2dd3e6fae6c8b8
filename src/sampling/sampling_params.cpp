#include "sampling/sampling_params.h"

#include <cmath>

namespace locara {

Status SamplingParams::validate() const {
  // NaN compares false with everything, so each range check is written to fail on NaN.
  if (!(std::isfinite(temperature) && temperature >= 0.0f)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "sampling: temperature = {} must be finite and >= 0 (0 means greedy)",
                      temperature);
  }
  if (top_k < 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "sampling: top_k = {} must be >= 0 (0 turns it off)", top_k);
  }
  if (!(top_p > 0.0f && top_p <= 1.0f)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "sampling: top_p = {} must be in (0, 1] (1 turns it off)", top_p);
  }
  if (!(min_p >= 0.0f && min_p <= 1.0f)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "sampling: min_p = {} must be in [0, 1] (0 turns it off)", min_p);
  }
  if (!(std::isfinite(repeat_penalty) && repeat_penalty > 0.0f)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "sampling: repeat_penalty = {} must be finite and > 0 (1 turns it off)",
                      repeat_penalty);
  }
  if (repeat_last_n < -1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "sampling: repeat_last_n = {} must be >= -1 (0: off, -1: all tokens)",
                      repeat_last_n);
  }
  if (!std::isfinite(presence_penalty)) {
    return make_error(ErrorCode::kInvalidArgument, "sampling: presence_penalty = {} must be finite",
                      presence_penalty);
  }
  if (!std::isfinite(frequency_penalty)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "sampling: frequency_penalty = {} must be finite", frequency_penalty);
  }
  for (size_t i = 0; i < banned_tokens.size(); ++i) {
    if (banned_tokens[i] < 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "sampling: banned_tokens[{}] = {} must be a token id >= 0", i,
                        banned_tokens[i]);
    }
  }
  return ok_status();
}

}  // namespace locara
