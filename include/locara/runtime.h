// The Locara runtime as apps, the CLI and the server use it: models mapped for apps and
// held by leases, pins, the `ps` listing, one event stream; memory pressure, idle unloads
// and power states are handled inside. No HTTP or JSON here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "platform/memory_pressure.h"
#include "platform/power.h"
#include "runtime/app_budget.h"
#include "runtime/app_manifest.h"
#include "runtime/app_session.h"
#include "runtime/clock.h"
#include "runtime/events.h"
#include "runtime/model_types.h"
#include "runtime/planner.h"
#include "runtime/policy.h"
#include "runtime/power_policy.h"
#include "runtime/session_registry.h"

namespace locara {

struct RuntimeOptions {
  // Planned bytes all loaded models may commit together. 0: computed at start from the
  // machine (memory_budget.h: a share of physical memory minus what others use now).
  uint64_t budget_bytes = 0;
  Duration idle_timeout = std::chrono::seconds(180);
  const Clock* clock = nullptr;  // null: the steady clock. Must outlive the runtime.
  ModelLoader loader;            // empty: mmap through LoadedModel::load
  PlanConfig plan;               // how models are planned (context, KV type, sequences)
  // Where tick() reads memory pressure and power conditions from. Null/empty with
  // watch_os: the OS's; without watch_os: none (the caller applies them itself).
  std::shared_ptr<PressureSource> pressure_source;
  PressureThresholds pressure_thresholds;
  std::function<PowerConditions()> power_source;
  PowerSettings power_settings;  // how the OS's power source reads low power (watch_os)
  bool watch_os = true;
  size_t decision_log_capacity = 1024;
  // Positive: a background thread calls tick() at this interval (the daemon: about a
  // second) and stops at once when the runtime is destroyed. Zero: the caller ticks.
  Duration tick_interval = Duration::zero();
};

struct RuntimeParts;
class PeriodicThread;

// Thread-safe: every method may be called from any thread. The runtime must outlive
// the leases, subscriptions and session registrations it hands out (subscriptions and
// registrations may outlive it harmlessly; leases may not).
class Runtime {
 public:
  static Expected<std::unique_ptr<Runtime>> create(RuntimeOptions options);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // --- Models -------------------------------------------------------------------------
  // Plans a GGUF file (reads its header; no weights touched) with options.plan, or with
  // `config` when given (a quantized KV type the model's heads cannot take falls back to
  // f16), and makes it known as `name`. Returns the plan.
  Expected<Plan> add_model(std::string name, std::string path, ModelRole role,
                           std::optional<PlanConfig> config = std::nullopt);
  // A model planned elsewhere (tests, fake models of declared sizes).
  Status add_planned_model(ModelSpec spec);

  // --- Apps ---------------------------------------------------------------------------
  // Registers an app's budget (requires.memory_gb) and its models (named "<app>/<name>"
  // unless another app registered the same file with the same plan, which it then
  // shares); keep_loaded pins them. Only file paths: model-store refs are refused.
  Status register_app(const AppManifest& manifest);
  // An app with a declared budget and no manifest models.
  Status register_app(std::string app_id, uint64_t declared_bytes);

  // A lease on a model for one of the app's requests, loading it first (evicting least
  // recently used idle models to make room) if needed. `model` is a runtime model name,
  // or the app's own name for it in its manifest. Refusals (kResourceExhausted) name the
  // model, the app, the need and the budget.
  Expected<ModelLease> acquire(std::string_view app, std::string_view model);
  // Loads without a lease; its idle timer starts at once.
  Status preload(std::string_view app, std::string_view model);
  // "Keep loaded" (memory pressure overrides it).
  Status pin(std::string_view app, std::string_view model);
  Status unpin(std::string_view app, std::string_view model);
  Status unload(std::string_view model);

  // --- What it is doing ---------------------------------------------------------------
  std::vector<ModelStatus> ps() const;  // never resets idle timers
  std::vector<Decision> decisions() const;
  std::vector<AppFootprint> app_footprints() const;
  RuntimePolicy policy() const;  // the limits the scheduler applies now
  PressureLevel pressure_level() const;
  PowerConditions power_conditions() const;
  uint64_t budget_bytes() const;
  uint64_t committed_bytes() const;
  // The budget and thresholds in one paragraph, for the start-up log.
  std::string describe_configuration() const;

  Subscription subscribe(SubscriptionOptions options);
  // Sessions register how to drop their caches; the pressure ladder calls it.
  SessionRegistration register_session(SessionHooks hooks);

  // --- Sessions for apps --------------------------------------------------------------
  // Charges a session's KV cache and scratch to `app` until the handle ends. Refused
  // (kResourceExhausted, naming the need and the budget) past the app's declared
  // memory_gb; apps never registered are not limited (an empty handle).
  Expected<AppSessionCharge> charge_session(std::string_view app, uint64_t kv_bytes,
                                            uint64_t scratch_bytes);
  // An engine session on a leased model for `app`: its KV and scratch are planned for
  // `options` (planner.h), charged as charge_session does, and only then allocated. The
  // session takes the lease and ends before it.
  Expected<AppSession> open_app_session(std::string_view app, ModelLease lease,
                                        const SessionOptions& options);

  // --- Periodic work ------------------------------------------------------------------
  // Idle unloads at the clock's now; then a pressure sample and a power reading from
  // the configured sources. Call about once a second.
  void tick();
  // Reads the pressure source once, classifies it (with hysteresis) and runs the ladder.
  Status sample_pressure();
  // Runs the ladder for a level directly (a source that already normalises, tests).
  MemoryBudgetTighteningEvent apply_pressure(PressureLevel level, uint64_t bytes_to_free = 0,
                                             const std::string& cause = "");
  void apply_power(const PowerConditions& conditions);

 private:
  explicit Runtime(std::unique_ptr<RuntimeParts> parts);
  std::unique_ptr<RuntimeParts> parts_;
  std::unique_ptr<PeriodicThread> ticker_;  // with tick_interval; stopped before parts_ go
};

}  // namespace locara
