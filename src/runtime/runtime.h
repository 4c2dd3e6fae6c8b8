// The composition behind locara::Runtime (include/locara/runtime.h): the model manager,
// pressure ladder, power policy, event bus, app budgets and planner settings it ties.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "locara/runtime.h"
#include "runtime/app_budget.h"
#include "runtime/events.h"
#include "runtime/memory_budget.h"
#include "runtime/model_manager.h"
#include "runtime/policy.h"
#include "runtime/power_policy.h"
#include "runtime/pressure_ladder.h"
#include "runtime/session_registry.h"

namespace locara {

// Members are declared in dependency order, so they are destroyed consumers first (the
// ladder and manager before the bus and budgets they publish to). Each part is
// thread-safe on its own; the two mutexes here guard what is not inside a part.
struct RuntimeParts {
  RuntimeParts(const Clock* external_clock, const RuntimeOptions& options,
               PressureClassifier pressure_classifier, MemoryBudget machine_budget,
               uint64_t budget_bytes);

  SteadyClock steady_clock;
  const Clock& clock;
  EventBus events;
  AppBudget app_budget;
  PolicyBoard policy;
  SessionRegistry sessions;
  ModelManager models;
  PressureLadder ladder;
  PowerPolicy power;

  const PlanConfig plan;
  const Duration idle_timeout;
  const MemoryBudget machine_budget;  // how the budget was computed (zero if given)
  std::shared_ptr<PressureSource> pressure_source;
  std::function<PowerConditions()> power_source;

  std::mutex sampling_mutex;  // one pressure sample at a time through the classifier
  PressureClassifier classifier;

  // Apps AppBudget reported over their declaration, confirmed and published by
  // publish_over_budget(): an unload detaches a shared model from its apps one by one,
  // and the remaining ones briefly look over budget; only what is still over is news.
  std::mutex over_budget_mutex;
  std::set<std::string> over_budget_pending;
  void publish_over_budget();

  // Session charges the runtime hands out (AppSessionCharge) take ids with the top bit set,
  // so they never meet the ids callers of Runtime::open_session choose for themselves.
  std::atomic<uint64_t> next_session_charge{0};

  std::mutex names_mutex;
  std::map<std::string, std::string, std::less<>> app_model_names;  // "app\nname" -> model
  std::map<std::string, std::string> model_by_plan_key;             // "path|n_ctx|kv" -> model
};

}  // namespace locara
