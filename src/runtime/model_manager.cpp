#include "runtime/model_manager.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cassert>

#include "runtime/app_budget.h"
#include "runtime/events.h"

namespace locara {

struct ModelManager::Entry {
  uint64_t id = 0;
  ModelSpec spec;
  ModelState state = ModelState::kUnloaded;
  std::shared_ptr<const LoadedModel> model;  // set while kLoaded
  int32_t leases = 0;
  TimePoint last_used{};   // LRU order: the last lease taken or ended
  TimePoint idle_since{};  // the last lease ended (or a lease-less load)
  std::set<std::string, std::less<>> pinned_by;
  std::set<std::string, std::less<>> owners;  // apps charged for it while loaded
  // A deferred unload: happens when the last lease ends.
  bool unload_when_released = false;
  bool deferred_by_pressure = false;
  UnloadReason deferred_reason = UnloadReason::kRequested;
  std::string deferred_detail;

  bool secondary() const { return spec.role != ModelRole::kChat; }
  uint64_t shared_bytes() const {
    return spec.shared_bytes > 0 ? spec.shared_bytes : spec.planned_bytes;
  }
};

ModelLoader mmap_model_loader() {
  return [](const ModelSpec& spec) { return LoadedModel::load(spec.path); };
}

ModelManager::ModelManager(const Clock& clock, ModelLoader loader, ModelManagerOptions options,
                           EventBus* events, AppBudget* app_budget)
    : clock_(clock),
      loader_(std::move(loader)),
      events_(events),
      app_budget_(app_budget),
      idle_timeout_(options.idle_timeout),
      decision_capacity_(std::max<size_t>(1, options.decision_log_capacity)),
      budget_bytes_(options.budget_bytes) {}

ModelManager::~ModelManager() {
  // Leases point at this manager: every request must have ended by now.
  std::lock_guard lock(mutex_);
  for (const auto& [name, entry] : models_) {
    assert(entry->leases == 0 && "a ModelLease outlived its ModelManager");
    (void)entry;
  }
}

Status ModelManager::add_model(ModelSpec spec) {
  if (spec.name.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "model spec: empty name (path '{}')", spec.path);
  }
  if (spec.planned_bytes == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "model '{}': planned_bytes is 0; plan it before adding it", spec.name);
  }
  std::lock_guard lock(mutex_);
  if (models_.count(spec.name) > 0) {
    return make_error(ErrorCode::kInvalidArgument, "model '{}' is already known", spec.name);
  }
  auto entry = std::make_unique<Entry>();
  entry->id = next_id_++;
  entry->spec = std::move(spec);
  by_id_[entry->id] = entry.get();
  models_.emplace(entry->spec.name, std::move(entry));
  return ok_status();
}

bool ModelManager::has_model(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return find_locked(name) != nullptr;
}

Expected<ModelLease> ModelManager::acquire(std::string_view model, std::string_view app) {
  Lock lock(mutex_);
  return acquire_locked(lock, model, app, /*lease=*/true);
}

Status ModelManager::preload(std::string_view model, std::string_view app) {
  Lock lock(mutex_);
  auto result = acquire_locked(lock, model, app, /*lease=*/false);
  if (!result) return result.error();
  return ok_status();
}

Expected<ModelLease> ModelManager::acquire_locked(Lock& lock, std::string_view model,
                                                  std::string_view app, bool lease) {
  for (;;) {
    Entry* entry = find_locked(model);
    if (entry == nullptr) {
      std::vector<std::string_view> known;
      for (const auto& [name, e] : models_) known.push_back(name);
      return make_error(ErrorCode::kNotFound, "model '{}' is not known to the runtime (known: {})",
                        model, fmt::join(known, ", "));
    }
    if (critical_) {
      std::string reason = fmt::format(
          "memory pressure is critical: model '{}' is not {} for app '{}'; retry when "
          "pressure clears",
          model, entry->state == ModelState::kLoaded ? "leased" : "loaded", app);
      log_locked(DecisionAction::kRefuse, *entry, app, reason);
      return make_error(ErrorCode::kResourceExhausted, "{}", reason);
    }
    if (entry->state == ModelState::kLoading) {
      load_finished_.wait(lock);
      continue;  // loaded, or failed and ours to retry
    }
    if (entry->state == ModelState::kLoaded) {
      LOCARA_RETURN_IF_ERROR(charge_app_locked(*entry, app, /*check_only=*/false));
      if (!lease) return ModelLease();
      ++entry->leases;
      entry->last_used = clock_.now();
      return ModelLease(this, entry->id, entry->spec.name, entry->model);
    }

    // Unloaded: check the app, make room with planned sizes, reserve, then load unlocked.
    LOCARA_RETURN_IF_ERROR(charge_app_locked(*entry, app, /*check_only=*/true));
    std::vector<std::shared_ptr<const LoadedModel>> freed;
    std::string evicted;
    LOCARA_RETURN_IF_ERROR(make_room_locked(*entry, app, freed, evicted));
    entry->state = ModelState::kLoading;  // its planned bytes count as committed from now
    const ModelSpec& spec = entry->spec;  // immutable once added
    lock.unlock();
    freed.clear();  // the evicted models' memory goes before the new one arrives
    auto loaded = loader_(spec);
    lock.lock();
    load_finished_.notify_all();
    if (!loaded) {
      entry->state = ModelState::kUnloaded;
      log_locked(DecisionAction::kLoadFailed, *entry, app, loaded.error().message);
      return loaded.error();
    }
    entry->model = std::move(loaded).value();
    entry->state = ModelState::kLoaded;
    entry->last_used = entry->idle_since = clock_.now();
    std::string reason = fmt::format("for app '{}', planned {} ({} of {} committed)", app,
                                     format_bytes(spec.planned_bytes),
                                     format_bytes(committed_locked()), format_bytes(budget_bytes_));
    if (!evicted.empty()) reason += fmt::format("; evicted first: {}", evicted);
    log_locked(DecisionAction::kLoad, *entry, app, reason);
    if (events_ != nullptr) {
      events_->publish(
          ModelLoadedEvent{spec.name, spec.role, spec.planned_bytes, std::string(app), reason});
    }
    LOCARA_RETURN_IF_ERROR(charge_app_locked(*entry, app, /*check_only=*/false));
    if (critical_) {
      // Pressure went critical while it loaded: serve this request, then let it go.
      if (!lease) {
        auto model_ref = unload_locked(*entry, UnloadReason::kPressure, "loaded during critical");
        lock.unlock();
        return ModelLease();
      }
      entry->unload_when_released = entry->deferred_by_pressure = true;
      entry->deferred_reason = UnloadReason::kPressureAfterUse;
      entry->deferred_detail = "critical memory pressure began while it loaded";
      log_locked(DecisionAction::kDeferUnload, *entry, app, entry->deferred_detail);
    }
    if (!lease) return ModelLease();
    ++entry->leases;
    return ModelLease(this, entry->id, spec.name, entry->model);
  }
}

Status ModelManager::charge_app_locked(Entry& entry, std::string_view app, bool check_only) {
  if (app_budget_ == nullptr || entry.owners.count(app) > 0) {
    if (!check_only) entry.owners.emplace(app);
    return ok_status();
  }
  if (!app_budget_->footprint(app)) {  // not a registered app (the CLI): not limited
    if (!check_only) entry.owners.emplace(app);
    return ok_status();
  }
  const AppLoad load{entry.spec.name, entry.shared_bytes(), entry.spec.session_kv_bytes,
                     entry.spec.session_scratch_bytes};
  Status status = check_only ? app_budget_->check_load(app, load)
                             : app_budget_->attach_model(app, load.model_key, load.model_bytes);
  if (!status) {
    log_locked(DecisionAction::kRefuse, entry, app, status.error().message);
    return status;
  }
  if (!check_only) entry.owners.emplace(app);
  return ok_status();
}

Status ModelManager::make_room_locked(const Entry& entry, std::string_view app,
                                      std::vector<std::shared_ptr<const LoadedModel>>& freed,
                                      std::string& evicted_names) {
  const uint64_t need = entry.spec.planned_bytes;
  uint64_t committed = committed_locked();
  if (committed + need <= budget_bytes_) return ok_status();

  // Idle, unpinned, loaded models, least recently used first.
  std::vector<Entry*> candidates;
  uint64_t freeable = 0;
  std::vector<std::string> held;
  for (auto& [name, other] : models_) {
    if (other->state == ModelState::kUnloaded || other.get() == &entry) continue;
    if (other->state == ModelState::kLoaded && other->leases == 0 && other->pinned_by.empty()) {
      candidates.push_back(other.get());
      freeable += other->spec.planned_bytes;
    } else {
      held.push_back(fmt::format("{} {} ({})", name, format_bytes(other->spec.planned_bytes),
                                 other->leases > 0           ? "in use"
                                 : !other->pinned_by.empty() ? "pinned"
                                                             : "loading"));
    }
  }
  if (need > budget_bytes_ || committed - freeable + need > budget_bytes_) {
    std::string reason = fmt::format(
        "cannot load model '{}' for app '{}': it needs {} but the runtime's budget is {} "
        "with {} committed{}{}",
        entry.spec.name, app, format_bytes(need), format_bytes(budget_bytes_),
        format_bytes(committed), held.empty() ? "" : " and held by: ", fmt::join(held, ", "));
    log_locked(DecisionAction::kRefuse, entry, app, reason);
    return make_error(ErrorCode::kResourceExhausted, "{}", reason);
  }
  std::sort(candidates.begin(), candidates.end(), [](const Entry* a, const Entry* b) {
    return a->last_used != b->last_used ? a->last_used < b->last_used : a->id < b->id;
  });
  for (Entry* victim : candidates) {
    if (committed + need <= budget_bytes_) break;
    committed -= victim->spec.planned_bytes;
    if (!evicted_names.empty()) evicted_names += ", ";
    evicted_names += victim->spec.name;
    freed.push_back(
        unload_locked(*victim, UnloadReason::kEvicted,
                      fmt::format("least recently used; room for '{}' ({}) for app '{}'",
                                  entry.spec.name, format_bytes(need), app)));
  }
  return ok_status();
}

std::shared_ptr<const LoadedModel> ModelManager::unload_locked(Entry& entry, UnloadReason reason,
                                                               const std::string& detail) {
  assert(entry.state == ModelState::kLoaded && entry.leases == 0);
  std::shared_ptr<const LoadedModel> model = std::move(entry.model);
  entry.state = ModelState::kUnloaded;
  entry.unload_when_released = entry.deferred_by_pressure = false;
  if (app_budget_ != nullptr) {
    for (const std::string& app : entry.owners) app_budget_->detach_model(app, entry.spec.name);
  }
  entry.owners.clear();
  log_locked(DecisionAction::kUnload, entry, "",
             fmt::format("{}: {}", unload_reason_name(reason), detail));
  if (events_ != nullptr) {
    events_->publish(ModelUnloadedEvent{entry.spec.name, entry.spec.role, entry.spec.planned_bytes,
                                        reason, detail});
  }
  return model;
}

void ModelManager::release_lease(uint64_t model_id) {
  std::shared_ptr<const LoadedModel> freed;
  {
    std::lock_guard lock(mutex_);
    auto it = by_id_.find(model_id);
    assert(it != by_id_.end());
    Entry& entry = *it->second;
    assert(entry.leases > 0);
    --entry.leases;
    entry.last_used = entry.idle_since = clock_.now();
    if (entry.leases == 0 && entry.unload_when_released) {
      freed = unload_locked(entry, entry.deferred_reason, entry.deferred_detail);
    }
  }
  // `freed` is released here, outside the lock: the mapping goes now.
}

Status ModelManager::pin(std::string_view model, std::string_view app) {
  std::lock_guard lock(mutex_);
  Entry* entry = find_locked(model);
  if (entry == nullptr) {
    return make_error(ErrorCode::kNotFound, "pin: model '{}' is not known (app '{}')", model, app);
  }
  if (entry->pinned_by.emplace(app).second) {
    log_locked(DecisionAction::kPin, *entry, app, "app asked to keep it loaded");
  }
  return ok_status();
}

Status ModelManager::unpin(std::string_view model, std::string_view app) {
  std::lock_guard lock(mutex_);
  Entry* entry = find_locked(model);
  if (entry == nullptr) {
    return make_error(ErrorCode::kNotFound, "unpin: model '{}' is not known (app '{}')", model,
                      app);
  }
  auto it = entry->pinned_by.find(app);
  if (it != entry->pinned_by.end()) {
    entry->pinned_by.erase(it);
    log_locked(DecisionAction::kUnpin, *entry, app, "app released its pin");
  }
  return ok_status();
}

Status ModelManager::unload(std::string_view model, std::string_view why) {
  std::shared_ptr<const LoadedModel> freed;
  std::lock_guard lock(mutex_);
  Entry* entry = find_locked(model);
  if (entry == nullptr) {
    return make_error(ErrorCode::kNotFound, "unload: model '{}' is not known", model);
  }
  if (entry->state != ModelState::kLoaded) return ok_status();
  if (entry->leases == 0) {
    freed = unload_locked(*entry, UnloadReason::kRequested, std::string(why));
    return ok_status();
  }
  entry->unload_when_released = true;
  entry->deferred_by_pressure = false;
  entry->deferred_reason = UnloadReason::kRequested;
  entry->deferred_detail = std::string(why);
  log_locked(
      DecisionAction::kDeferUnload, *entry, "",
      fmt::format("{} request(s) in flight; unloads when they end ({})", entry->leases, why));
  return ok_status();
}

void ModelManager::tick(TimePoint now) {
  std::vector<std::shared_ptr<const LoadedModel>> freed;
  std::lock_guard lock(mutex_);
  for (auto& [name, entry] : models_) {
    if (entry->state != ModelState::kLoaded || entry->leases > 0 || !entry->pinned_by.empty()) {
      continue;
    }
    if (now - entry->idle_since >= idle_timeout_) {
      freed.push_back(
          unload_locked(*entry, UnloadReason::kIdle,
                        fmt::format("no request for {:.0f} s (timeout {:.0f} s)",
                                    seconds_between(entry->idle_since, now),
                                    std::chrono::duration<double>(idle_timeout_).count())));
    }
  }
}

PressureRelief ModelManager::relieve_critical_pressure() {
  PressureRelief relief;
  std::vector<std::shared_ptr<const LoadedModel>> freed;
  std::lock_guard lock(mutex_);
  critical_ = true;
  std::vector<Entry*> order;
  for (auto& [name, entry] : models_) {
    for (const std::string& app : entry->pinned_by) {
      relief.unpinned.push_back(fmt::format("{} ({})", name, app));
      log_locked(DecisionAction::kUnpin, *entry, app, "critical memory pressure overrides pins");
    }
    entry->pinned_by.clear();
    if (entry->state == ModelState::kLoaded) order.push_back(entry.get());
  }
  // Secondary models (draft, embedder) go first, then the rest.
  std::stable_sort(order.begin(), order.end(),
                   [](const Entry* a, const Entry* b) { return a->secondary() > b->secondary(); });
  for (Entry* entry : order) {
    if (entry->leases == 0) {
      relief.unloaded.push_back(entry->spec.name);
      relief.bytes_freed += entry->spec.planned_bytes;
      freed.push_back(unload_locked(*entry, UnloadReason::kPressure,
                                    entry->secondary() ? "critical memory pressure: secondary model"
                                                       : "critical memory pressure: idle model"));
    } else {
      relief.deferred.push_back(entry->spec.name);
      relief.bytes_pending += entry->spec.planned_bytes;
      if (!entry->unload_when_released) {
        entry->unload_when_released = entry->deferred_by_pressure = true;
        entry->deferred_reason = UnloadReason::kPressureAfterUse;
        entry->deferred_detail = "critical memory pressure: its in-flight request ended";
        log_locked(DecisionAction::kDeferUnload, *entry, "",
                   fmt::format("critical memory pressure: {} request(s) in flight, never "
                               "interrupted; unloads when they end",
                               entry->leases));
      }
    }
  }
  return relief;
}

void ModelManager::end_critical_pressure() {
  std::lock_guard lock(mutex_);
  if (!critical_) return;
  critical_ = false;
  for (auto& [name, entry] : models_) {
    if (entry->unload_when_released && entry->deferred_by_pressure) {
      entry->unload_when_released = entry->deferred_by_pressure = false;
      log_locked(DecisionAction::kCancelUnload, *entry, "",
                 "memory pressure no longer critical: stays loaded");
    }
  }
}

bool ModelManager::critical() const {
  std::lock_guard lock(mutex_);
  return critical_;
}

std::vector<ModelStatus> ModelManager::list() const {
  const TimePoint now = clock_.now();
  std::lock_guard lock(mutex_);
  std::vector<ModelStatus> out;
  out.reserve(models_.size());
  for (const auto& [name, entry] : models_) out.push_back(status_locked(*entry, now));
  return out;
}

std::optional<ModelStatus> ModelManager::status(std::string_view model) const {
  const TimePoint now = clock_.now();
  std::lock_guard lock(mutex_);
  const Entry* entry = find_locked(model);
  if (entry == nullptr) return std::nullopt;
  return status_locked(*entry, now);
}

ModelStatus ModelManager::status_locked(const Entry& entry, TimePoint now) const {
  ModelStatus status;
  status.name = entry.spec.name;
  status.path = entry.spec.path;
  status.role = entry.spec.role;
  status.state = entry.state;
  status.planned_bytes = entry.spec.planned_bytes;
  status.n_ctx = entry.spec.n_ctx;
  status.kv_type = entry.spec.kv_type;
  status.pinned_by.assign(entry.pinned_by.begin(), entry.pinned_by.end());
  status.owner_apps.assign(entry.owners.begin(), entry.owners.end());
  status.leases = entry.leases;
  if (entry.state == ModelState::kLoaded && entry.leases == 0) {
    status.idle_seconds = seconds_between(entry.idle_since, now);
  }
  status.unload_when_released = entry.unload_when_released;
  return status;
}

std::vector<Decision> ModelManager::decisions() const {
  std::lock_guard lock(mutex_);
  return {decisions_.begin(), decisions_.end()};
}

uint64_t ModelManager::budget_bytes() const {
  std::lock_guard lock(mutex_);
  return budget_bytes_;
}

void ModelManager::set_budget_bytes(uint64_t bytes) {
  std::lock_guard lock(mutex_);
  budget_bytes_ = bytes;
}

uint64_t ModelManager::committed_bytes() const {
  std::lock_guard lock(mutex_);
  return committed_locked();
}

uint64_t ModelManager::committed_locked() const {
  uint64_t total = 0;
  for (const auto& [name, entry] : models_) {
    if (entry->state != ModelState::kUnloaded) total += entry->spec.planned_bytes;
  }
  return total;
}

ModelManager::Entry* ModelManager::find_locked(std::string_view name) {
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second.get();
}

const ModelManager::Entry* ModelManager::find_locked(std::string_view name) const {
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second.get();
}

void ModelManager::log_locked(DecisionAction action, const Entry& entry, std::string_view app,
                              std::string reason) {
  if (decisions_.size() == decision_capacity_) decisions_.pop_front();
  decisions_.push_back(Decision{clock_.now(), action, entry.spec.name, std::string(app),
                                entry.spec.planned_bytes, std::move(reason)});
}

}  // namespace locara
