#include "runtime/app_budget.h"

#include <algorithm>

namespace locara {
namespace {

std::string load_breakdown(uint64_t weights_share, uint64_t kv, uint64_t scratch) {
  return fmt::format("weights share {} + KV {} + scratch {}", format_bytes(weights_share),
                     format_bytes(kv), format_bytes(scratch));
}

}  // namespace

std::string format_bytes(uint64_t bytes) {
  const auto value = static_cast<double>(bytes);
  if (bytes >= (uint64_t{1} << 30)) return fmt::format("{:.2f} GiB", value / (1 << 30));
  if (bytes >= (uint64_t{1} << 20)) return fmt::format("{:.2f} MiB", value / (1 << 20));
  if (bytes >= (uint64_t{1} << 10)) return fmt::format("{:.2f} KiB", value / (1 << 10));
  return fmt::format("{} B", bytes);
}

AppLoad app_load_from_plan(const Plan& plan, std::string model_key) {
  AppLoad load;
  load.model_key = std::move(model_key);
  load.model_bytes = plan.weight_bytes() + plan.metadata_bytes();
  load.kv_bytes = plan.kv_bytes();
  load.scratch_bytes = plan.scratch_bytes() + plan.overhead_bytes;
  return load;
}

Status AppBudget::register_app(std::string app_id, uint64_t declared_bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (apps_.count(app_id) != 0) {
    return make_error(ErrorCode::kInvalidArgument, "app '{}' is already registered", app_id);
  }
  apps_[std::move(app_id)].declared_bytes = declared_bytes;
  return ok_status();
}

Status AppBudget::register_app(const AppManifest& manifest) {
  return register_app(manifest.id, manifest.memory_bytes());
}

void AppBudget::unregister_app(std::string_view app_id) {
  std::vector<AppFootprint> newly_over;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto app = apps_.find(app_id);
    if (app == apps_.end()) return;
    for (const std::string& key : app->second.models) {
      auto model = models_.find(key);
      if (model != models_.end() && --model->second.sharers == 0) models_.erase(model);
    }
    apps_.erase(app);
    newly_over = collect_newly_over_locked();
  }
  report(newly_over);
}

Status AppBudget::check_load(std::string_view app_id, const AppLoad& load) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return check_load_locked(app_id, load);
}

Status AppBudget::check_load_locked(std::string_view app_id, const AppLoad& load) const {
  auto app = apps_.find(app_id);
  if (app == apps_.end()) {
    return make_error(ErrorCode::kNotFound, "app '{}' is not registered", app_id);
  }
  const AppFootprint now = footprint_locked(app->first, app->second);
  uint64_t new_share = 0;
  const bool holds = std::find(app->second.models.begin(), app->second.models.end(),
                               load.model_key) != app->second.models.end();
  if (!holds && !load.model_key.empty()) {
    auto model = models_.find(load.model_key);
    const int sharers = model == models_.end() ? 0 : model->second.sharers;
    new_share = load.model_bytes / static_cast<uint64_t>(sharers + 1);
  }
  const uint64_t weights = now.weights_share_bytes + new_share;
  const uint64_t kv = now.kv_bytes + load.kv_bytes;
  const uint64_t scratch = now.scratch_bytes + load.scratch_bytes;
  const uint64_t need = weights + kv + scratch;
  if (need > app->second.declared_bytes) {
    return make_error(ErrorCode::kResourceExhausted,
                      "app '{}' cannot load '{}': it would need {} ({}) but its budget is {} "
                      "(requires.memory_gb in its manifest)",
                      app_id, load.model_key.empty() ? "a session" : load.model_key,
                      format_bytes(need), load_breakdown(weights, kv, scratch),
                      format_bytes(app->second.declared_bytes));
  }
  return ok_status();
}

Status AppBudget::attach_model(std::string_view app_id, std::string_view model_key,
                               uint64_t model_bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  LOCARA_RETURN_IF_ERROR(
      check_load_locked(app_id, AppLoad{std::string(model_key), model_bytes, 0, 0}));
  auto app = apps_.find(app_id);
  std::vector<std::string>& held = app->second.models;
  if (std::find(held.begin(), held.end(), model_key) != held.end()) return ok_status();
  held.emplace_back(model_key);
  auto model = models_.find(model_key);
  if (model == models_.end()) model = models_.emplace(std::string(model_key), SharedModel{}).first;
  model->second.model_bytes = std::max(model->second.model_bytes, model_bytes);
  ++model->second.sharers;
  return ok_status();
}

void AppBudget::detach_model(std::string_view app_id, std::string_view model_key) {
  std::vector<AppFootprint> newly_over;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto app = apps_.find(app_id);
    if (app == apps_.end()) return;
    std::vector<std::string>& held = app->second.models;
    auto it = std::find(held.begin(), held.end(), model_key);
    if (it == held.end()) return;
    held.erase(it);
    auto model = models_.find(model_key);
    if (model != models_.end() && --model->second.sharers == 0) models_.erase(model);
    newly_over = collect_newly_over_locked();
  }
  report(newly_over);
}

Status AppBudget::open_session(std::string_view app_id, uint64_t session_id, uint64_t kv_bytes,
                               uint64_t scratch_bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  LOCARA_RETURN_IF_ERROR(check_load_locked(app_id, AppLoad{"", 0, kv_bytes, scratch_bytes}));
  auto app = apps_.find(app_id);
  if (app->second.sessions.count(session_id) != 0) {
    return make_error(ErrorCode::kInvalidArgument, "app '{}' already has a session {}", app_id,
                      session_id);
  }
  app->second.sessions[session_id] = Session{kv_bytes, scratch_bytes};
  return ok_status();
}

void AppBudget::update_session(std::string_view app_id, uint64_t session_id, uint64_t kv_bytes,
                               uint64_t scratch_bytes) {
  std::vector<AppFootprint> newly_over;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto app = apps_.find(app_id);
    if (app == apps_.end()) return;
    app->second.sessions[session_id] = Session{kv_bytes, scratch_bytes};
    newly_over = collect_newly_over_locked();
  }
  report(newly_over);
}

void AppBudget::close_session(std::string_view app_id, uint64_t session_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto app = apps_.find(app_id);
  if (app != apps_.end()) app->second.sessions.erase(session_id);
  // Closing only lowers charges; an app that drops back under may be reported again later.
  for (auto& [id, each] : apps_) {
    if (!footprint_locked(id, each).over_budget()) each.reported_over = false;
  }
}

Expected<AppFootprint> AppBudget::footprint(std::string_view app_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto app = apps_.find(app_id);
  if (app == apps_.end()) {
    return make_error(ErrorCode::kNotFound, "app '{}' is not registered", app_id);
  }
  return footprint_locked(app->first, app->second);
}

std::vector<AppFootprint> AppBudget::footprints() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<AppFootprint> all;
  for (const auto& [id, app] : apps_) all.push_back(footprint_locked(id, app));
  return all;
}

std::vector<AppFootprint> AppBudget::over_budget_apps() const {
  std::vector<AppFootprint> over = footprints();
  std::erase_if(over, [](const AppFootprint& f) { return !f.over_budget(); });
  return over;
}

void AppBudget::set_over_budget_callback(OverBudgetCallback callback) {
  std::lock_guard<std::mutex> lock(mutex_);
  callback_ = std::move(callback);
}

AppFootprint AppBudget::footprint_locked(const std::string& app_id, const App& app) const {
  AppFootprint footprint;
  footprint.app_id = app_id;
  footprint.declared_bytes = app.declared_bytes;
  for (const std::string& key : app.models) {
    auto model = models_.find(key);
    if (model == models_.end() || model->second.sharers == 0) continue;
    footprint.weights_share_bytes +=
        model->second.model_bytes / static_cast<uint64_t>(model->second.sharers);
  }
  for (const auto& [id, session] : app.sessions) {
    footprint.kv_bytes += session.kv_bytes;
    footprint.scratch_bytes += session.scratch_bytes;
  }
  return footprint;
}

std::vector<AppFootprint> AppBudget::collect_newly_over_locked() {
  std::vector<AppFootprint> newly_over;
  for (auto& [id, app] : apps_) {
    AppFootprint footprint = footprint_locked(id, app);
    if (footprint.over_budget() && !app.reported_over) {
      app.reported_over = true;
      newly_over.push_back(std::move(footprint));
    } else if (!footprint.over_budget()) {
      app.reported_over = false;
    }
  }
  return newly_over;
}

void AppBudget::report(const std::vector<AppFootprint>& newly_over) const {
  if (newly_over.empty()) return;
  OverBudgetCallback callback;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    callback = callback_;
  }
  if (!callback) return;
  for (const AppFootprint& footprint : newly_over) callback(footprint);
}

}  // namespace locara
