// The model manager: which models are in memory, who holds them, and every decision to
// load, evict, pin or unload them (LRU by planned size, idle timeout, pressure), logged.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/clock.h"
#include "runtime/model_types.h"

namespace locara {

class AppBudget;
class EventBus;

// The real loader: LoadedModel::load (mmap, no copy).
ModelLoader mmap_model_loader();

inline constexpr Duration kDefaultIdleTimeout = std::chrono::seconds(180);

struct ModelManagerOptions {
  uint64_t budget_bytes = 0;  // planned bytes all loaded models may commit together
  Duration idle_timeout = kDefaultIdleTimeout;
  size_t decision_log_capacity = 1024;  // oldest decisions go first
};

// What critical pressure made the manager do.
struct PressureRelief {
  std::vector<std::string> unloaded;  // idle models unloaded now
  std::vector<std::string> deferred;  // in use: unload when their last lease ends
  std::vector<std::string> unpinned;  // "model (app)" pins dropped
  uint64_t bytes_freed = 0;           // planned bytes of `unloaded`
  uint64_t bytes_pending = 0;         // planned bytes of `deferred`
};

// Thread-safe: every method may be called from any thread. A load runs outside the
// lock (other models stay usable meanwhile; a second request for the same model waits
// for the first load). The manager must outlive the leases it issues.
class ModelManager final : public LeaseOwner {
 public:
  // events: where model_loaded/model_unloaded go. app_budget: apps registered there are
  // charged for the models they use (and refused past their declaration); other apps
  // (the CLI) are not limited. Both optional; both must outlive the manager. Lock order:
  // the manager calls into them while holding its lock, they never call back.
  ModelManager(const Clock& clock, ModelLoader loader, ModelManagerOptions options,
               EventBus* events = nullptr, AppBudget* app_budget = nullptr);
  ~ModelManager();
  ModelManager(const ModelManager&) = delete;
  ModelManager& operator=(const ModelManager&) = delete;

  // Makes a model known (not loaded). Names are unique; planned_bytes must be > 0.
  Status add_model(ModelSpec spec);
  bool has_model(std::string_view name) const;

  // A lease on `model` for `app`'s request, loading it first if needed; room is made by
  // unloading least recently used idle, unpinned models until its planned size fits.
  // Refused (kResourceExhausted, message naming the model, app, need and budget) when
  // it cannot fit, when the app's declared budget would be exceeded, or during
  // critical pressure.
  Expected<ModelLease> acquire(std::string_view model, std::string_view app);
  // Loads without a lease (its idle timer starts at once), e.g. `locara ps --load`.
  Status preload(std::string_view model, std::string_view app);
  // "Keep loaded": a pinned model is never evicted or idle-unloaded; critical pressure
  // still unloads it and drops the pin. Pinning does not load.
  Status pin(std::string_view model, std::string_view app);
  Status unpin(std::string_view model, std::string_view app);
  // Unloads now, or when its last lease ends if it is in use.
  Status unload(std::string_view model, std::string_view why);

  // Unloads models idle for at least the idle timeout at `now` (the runtime calls this
  // periodically). Listing and status calls never reset idle timers: only leases do.
  void tick(TimePoint now);

  // Critical pressure: refuses new leases and loads, drops every pin, unloads idle
  // models now (secondary ones first) and marks models in use to unload when their
  // in-flight requests end. Calling it again sweeps models that became idle since.
  PressureRelief relieve_critical_pressure();
  // Pressure no longer critical: new requests load lazily again; deferred unloads that
  // pressure asked for are called off.
  void end_critical_pressure();
  bool critical() const;

  std::vector<ModelStatus> list() const;
  std::optional<ModelStatus> status(std::string_view model) const;
  std::vector<Decision> decisions() const;
  uint64_t budget_bytes() const;
  void set_budget_bytes(uint64_t bytes);
  // Planned bytes of models loaded or being loaded.
  uint64_t committed_bytes() const;

 private:
  struct Entry;
  using Lock = std::unique_lock<std::mutex>;

  void release_lease(uint64_t model_id) override;

  // Shared by acquire and preload: loaded on return, with a lease taken if `lease`.
  Expected<ModelLease> acquire_locked(Lock& lock, std::string_view model, std::string_view app,
                                      bool lease);
  // Charges `app` for the model (app_budget.h) the first time it uses it while loaded.
  Status charge_app_locked(Entry& entry, std::string_view app, bool check_only);
  // Unloads idle LRU models until `need` more bytes fit; the freed models are moved to
  // `freed` so their memory goes after the lock is released, before the new load.
  Status make_room_locked(const Entry& entry, std::string_view app,
                          std::vector<std::shared_ptr<const LoadedModel>>& freed,
                          std::string& evicted_names);
  std::shared_ptr<const LoadedModel> unload_locked(Entry& entry, UnloadReason reason,
                                                   const std::string& detail);
  Entry* find_locked(std::string_view name);
  const Entry* find_locked(std::string_view name) const;
  uint64_t committed_locked() const;
  ModelStatus status_locked(const Entry& entry, TimePoint now) const;
  void log_locked(DecisionAction action, const Entry& entry, std::string_view app,
                  std::string reason);

  const Clock& clock_;
  ModelLoader loader_;
  EventBus* events_;
  AppBudget* app_budget_;
  Duration idle_timeout_;
  size_t decision_capacity_;

  mutable std::mutex mutex_;
  std::condition_variable load_finished_;
  uint64_t budget_bytes_;
  bool critical_ = false;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> models_;
  std::map<uint64_t, Entry*> by_id_;
  uint64_t next_id_ = 1;
  std::deque<Decision> decisions_;
};

}  // namespace locara
