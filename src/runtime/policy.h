// The runtime's current service limits, as the pressure ladder and the power policy set
// them and the scheduler reads them: prefetching, speculation, context and max_tokens caps.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace locara {

// Under memory pressure warning, queued work generates at most this many tokens: enough
// for a useful answer, short enough that the queue drains (and its KV stops growing) in
// seconds.
inline constexpr int32_t kWarningQueuedMaxTokens = 256;

// What the memory pressure ladder sets (pressure_ladder.h).
struct PressureLimits {
  bool prefetch_enabled = true;       // warning and above: stop prefetching
  int32_t queued_max_tokens_cap = 0;  // warning and above: queued work generates at most
                                      // this many tokens; 0: no cap
};

// What the power policy sets (power_policy.h).
struct PowerLimits {
  bool speculative_enabled = true;
  int64_t context_cap = 0;     // the default context of new sessions at most this; 0: none
  int32_t max_tokens_cap = 0;  // any request generates at most this; 0: no cap
  bool background_paused = false;
  int32_t stream_coalesce_tokens = 1;  // tokens per streamed event (1: one event each)
  std::chrono::milliseconds stream_coalesce_interval{0};  // or this long, whichever first
};

// Both, as one snapshot.
struct RuntimePolicy {
  PressureLimits pressure;
  PowerLimits power;

  // The max_tokens a request may run with: `requested` (< 0: until the context is full)
  // under the power cap, and under the pressure cap too for work still queued.
  int32_t max_tokens_for(int32_t requested, bool queued) const;
  // The context a new session gets when it asked for `requested` (0: the default, which
  // the power cap shrinks; an explicit request is kept).
  int64_t context_for(int64_t requested, int64_t model_default) const;
};

// Thread-safe: writers (ladder, power policy) and readers (scheduler) on any thread.
class PolicyBoard {
 public:
  void set_pressure(const PressureLimits& limits) {
    std::lock_guard lock(mutex_);
    policy_.pressure = limits;
  }
  void set_power(const PowerLimits& limits) {
    std::lock_guard lock(mutex_);
    policy_.power = limits;
  }
  RuntimePolicy current() const {
    std::lock_guard lock(mutex_);
    return policy_;
  }

 private:
  mutable std::mutex mutex_;
  RuntimePolicy policy_;
};

inline int32_t RuntimePolicy::max_tokens_for(int32_t requested, bool queued) const {
  int32_t result = requested;
  auto cap = [&](int32_t limit) {
    if (limit > 0 && (result < 0 || result > limit)) result = limit;
  };
  cap(power.max_tokens_cap);
  if (queued) cap(pressure.queued_max_tokens_cap);
  return result;
}

inline int64_t RuntimePolicy::context_for(int64_t requested, int64_t model_default) const {
  if (requested > 0) return requested;  // an explicit context is the caller's to choose
  if (power.context_cap > 0 && model_default > power.context_cap) return power.context_cap;
  return model_default;
}

}  // namespace locara
