#include "runtime/pressure_ladder.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/app_budget.h"

namespace locara {

MemoryBudgetTighteningEvent PressureLadder::apply(PressureLevel level, uint64_t bytes_to_free,
                                                  const std::string& cause) {
  std::lock_guard lock(mutex_);
  MemoryBudgetTighteningEvent event;
  event.level = level;
  event.previous = level_;
  event.bytes_to_free = bytes_to_free;
  event.cause = cause;
  const bool changed = level != level_;
  level_ = level;

  if (level == PressureLevel::kNormal) {
    if (!changed) return event;
    models_.end_critical_pressure();
    policy_.set_pressure(PressureLimits{});
    event.actions.push_back("prefetching resumed");
    event.actions.push_back("queued work keeps its max_tokens");
    if (event.previous == PressureLevel::kCritical) {
      event.actions.push_back("models reload on their next request");
    }
  } else {
    if (level == PressureLevel::kWarning && event.previous == PressureLevel::kCritical) {
      models_.end_critical_pressure();
      event.actions.push_back("critical over: models reload on their next request");
    }
    const CacheRelease caches = sessions_.release_idle_caches();
    event.bytes_freed += caches.bytes;
    if (caches.sessions > 0) {
      event.actions.push_back(fmt::format("released KV/prefix caches of {} idle session(s), {}",
                                          caches.sessions, format_bytes(caches.bytes)));
    }
    if (changed && event.previous == PressureLevel::kNormal) {
      policy_.set_pressure(PressureLimits{false, kWarningQueuedMaxTokens});
      event.actions.push_back("prefetching stopped");
      event.actions.push_back(
          fmt::format("queued work capped at {} tokens", kWarningQueuedMaxTokens));
    }
    if (level == PressureLevel::kCritical) {
      const PressureRelief relief = models_.relieve_critical_pressure();
      event.bytes_freed += relief.bytes_freed;
      if (!relief.unpinned.empty()) {
        event.actions.push_back(fmt::format("pins dropped: {}", fmt::join(relief.unpinned, ", ")));
      }
      if (!relief.unloaded.empty()) {
        event.actions.push_back(fmt::format("unloaded {} ({})", fmt::join(relief.unloaded, ", "),
                                            format_bytes(relief.bytes_freed)));
      }
      if (!relief.deferred.empty()) {
        event.actions.push_back(fmt::format("unloading {} when in-flight requests end ({})",
                                            fmt::join(relief.deferred, ", "),
                                            format_bytes(relief.bytes_pending)));
      }
      if (changed) event.actions.push_back("new model loads refused until pressure eases");
    }
    // A repeated sample at the same level is news only if it freed something.
    if (!changed && event.bytes_freed == 0) return event;
  }
  if (events_ != nullptr) events_->publish(event);
  return event;
}

PressureLevel PressureLadder::level() const {
  std::lock_guard lock(mutex_);
  return level_;
}

}  // namespace locara
