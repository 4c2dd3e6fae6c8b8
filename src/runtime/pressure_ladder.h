// The memory pressure ladder the runtime runs on every classified sample (DESIGN.md,
// "Memory pressure"): what warning and critical make it give up, and lazy recovery.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "platform/memory_pressure.h"
#include "runtime/events.h"
#include "runtime/model_manager.h"
#include "runtime/policy.h"
#include "runtime/session_registry.h"

namespace locara {

// The steps, by level:
//   warning:  release the KV/prefix caches of idle sessions; stop prefetching; cap the
//             max_tokens of queued work at kWarningQueuedMaxTokens (policy.h).
//   critical: the warning steps, and the manager's relief: secondary (draft, embedder)
//             and idle models unloaded now, pins dropped, models in use unloaded as soon
//             as their in-flight requests end (never interrupted); new loads refused.
//   back down from critical: loads allowed again, deferred unloads called off; a model
//             that went reloads lazily on the next request (acquire loads it).
//   normal:   prefetching and max_tokens restored.
// Each change of level, and each repeated sample that freed something, publishes one
// memory_budget_tightening event listing what was done.
// Thread-safe (one lock; samples are applied one at a time).
class PressureLadder {
 public:
  PressureLadder(ModelManager& models, SessionRegistry& sessions, PolicyBoard& policy,
                 EventBus* events)
      : models_(models), sessions_(sessions), policy_(policy), events_(events) {}

  // Applies one sample's level. bytes_to_free: how far available memory is below the
  // warning line (0 when unknown or above it); cause: what set the level. Returns what
  // was done (the event's content, also when nothing was published).
  MemoryBudgetTighteningEvent apply(PressureLevel level, uint64_t bytes_to_free,
                                    const std::string& cause);

  PressureLevel level() const;

 private:
  ModelManager& models_;
  SessionRegistry& sessions_;
  PolicyBoard& policy_;
  EventBus* events_;
  mutable std::mutex mutex_;
  PressureLevel level_ = PressureLevel::kNormal;
};

}  // namespace locara
