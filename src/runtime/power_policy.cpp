#include "runtime/power_policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <vector>

namespace locara {

bool is_downshifted(const PowerConditions& conditions) {
  return conditions.low_power || conditions.thermal == ThermalState::kSerious ||
         conditions.thermal == ThermalState::kCritical;
}

PowerLimits power_limits_for(const PowerConditions& conditions) {
  PowerLimits limits;
  if (!is_downshifted(conditions)) return limits;
  limits.speculative_enabled = false;
  limits.background_paused = true;
  if (conditions.thermal == ThermalState::kCritical) {
    limits.context_cap = kThermalCriticalContextCap;
    limits.max_tokens_cap = kThermalCriticalMaxTokensCap;
    limits.stream_coalesce_tokens = kThermalCriticalCoalesceTokens;
    limits.stream_coalesce_interval = kThermalCriticalCoalesceInterval;
  } else {
    limits.context_cap = kDownshiftContextCap;
    limits.max_tokens_cap = kDownshiftMaxTokensCap;
    limits.stream_coalesce_tokens = kDownshiftCoalesceTokens;
    limits.stream_coalesce_interval = kDownshiftCoalesceInterval;
  }
  return limits;
}

std::string describe_power_limits(const PowerLimits& limits) {
  std::vector<std::string> parts;
  if (!limits.speculative_enabled) parts.push_back("speculative decoding off");
  if (limits.context_cap > 0) {
    parts.push_back(fmt::format("default context <= {}", limits.context_cap));
  }
  if (limits.max_tokens_cap > 0) {
    parts.push_back(fmt::format("max_tokens <= {}", limits.max_tokens_cap));
  }
  if (limits.background_paused) parts.push_back("background work paused");
  if (limits.stream_coalesce_tokens > 1) {
    parts.push_back(fmt::format("streaming coalesced ({} tokens or {} ms per event)",
                                limits.stream_coalesce_tokens,
                                limits.stream_coalesce_interval.count()));
  }
  return parts.empty() ? "full service" : fmt::format("{}", fmt::join(parts, ", "));
}

bool PowerPolicy::apply(const PowerConditions& conditions) {
  std::lock_guard lock(mutex_);
  if (conditions == conditions_) return false;
  const bool was_downshifted = is_downshifted(conditions_);
  conditions_ = conditions;
  const PowerLimits limits = power_limits_for(conditions);
  policy_.set_power(limits);
  if (events_ != nullptr) {
    const bool downshifted = is_downshifted(conditions);
    std::string summary = describe_power_limits(limits);
    if (was_downshifted && !downshifted) summary = "full service restored";
    events_->publish(PowerStateChangedEvent{conditions.low_power, conditions.thermal, downshifted,
                                            std::move(summary)});
  }
  return true;
}

PowerConditions PowerPolicy::conditions() const {
  std::lock_guard lock(mutex_);
  return conditions_;
}

}  // namespace locara
