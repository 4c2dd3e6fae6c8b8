// The power policy: low-power mode and thermal state turned into service limits
// (speculation, context, max_tokens, background work, stream coalescing), and back.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "platform/thermal.h"
#include "runtime/events.h"
#include "runtime/policy.h"

namespace locara {

// What the machine reports: the OS's low-power (battery saver) mode and thermal state.
struct PowerConditions {
  bool low_power = false;
  ThermalState thermal = ThermalState::kNominal;
  bool operator==(const PowerConditions&) const = default;
};

// The downshift, for low-power mode or a serious thermal state. Speculative decoding
// runs a second model on every step: the first thing to go when energy or heat counts.
// 2048 positions halve a 4096 default's KV (and its attention cost per token); 512
// tokens still finish a typical answer. Streaming sends one event per 4 tokens or per
// 100 ms, whichever comes first, which cuts wake-ups without visibly stuttering.
inline constexpr int64_t kDownshiftContextCap = 2048;
inline constexpr int32_t kDownshiftMaxTokensCap = 512;
inline constexpr int32_t kDownshiftCoalesceTokens = 4;
inline constexpr std::chrono::milliseconds kDownshiftCoalesceInterval{100};
// Thermal critical (the firmware is about to throttle hard): half again.
inline constexpr int64_t kThermalCriticalContextCap = 1024;
inline constexpr int32_t kThermalCriticalMaxTokensCap = 256;
inline constexpr int32_t kThermalCriticalCoalesceTokens = 8;
inline constexpr std::chrono::milliseconds kThermalCriticalCoalesceInterval{250};

// The limits for some conditions: none for nominal/fair thermal without low-power mode;
// the downshift for low-power or serious; the critical numbers for thermal critical
// (with or without low-power mode). Background work is paused in every downshift.
PowerLimits power_limits_for(const PowerConditions& conditions);
bool is_downshifted(const PowerConditions& conditions);
// "speculative decoding off, default context <= 2048, ..." or "full service".
std::string describe_power_limits(const PowerLimits& limits);

// Thread-safe. Apply each reading; a change of conditions updates the policy board and
// publishes power_state_changed (also when the limits stay the same, e.g. nominal to
// fair: apps may want to show the state).
class PowerPolicy {
 public:
  PowerPolicy(PolicyBoard& policy, EventBus* events) : policy_(policy), events_(events) {}

  // Returns whether the conditions changed.
  bool apply(const PowerConditions& conditions);
  PowerConditions conditions() const;

 private:
  PolicyBoard& policy_;
  EventBus* events_;
  mutable std::mutex mutex_;
  PowerConditions conditions_;
};

}  // namespace locara
