#include "server/app_registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace locara::server {

std::string random_hex(int digits) {
  std::random_device device;
  std::string hex;
  while (static_cast<int>(hex.size()) < digits) hex += fmt::format("{:08x}", device());
  hex.resize(static_cast<size_t>(digits));
  return hex;
}

std::string new_app_token() {
  return std::string(kAppTokenPrefix) + random_hex(32);
}

Expected<RegisteredApp> AppRegistry::add(Runtime& runtime, const ModelStore& store,
                                         AppManifest manifest) {
  {
    std::lock_guard lock(mutex_);
    if (apps_.count(manifest.id) != 0) {
      return make_error(ErrorCode::kInvalidArgument, "app '{}' is already registered", manifest.id);
    }
  }
  for (ManifestModel& model : manifest.models) {
    if (model.ref.empty()) continue;
    auto stored = store.find(model.ref);
    if (!stored) {
      return make_error(ErrorCode::kNotFound, "app '{}' model '{}': {}", manifest.id, model.name,
                        stored.error().message);
    }
    model.path = stored->path;
    model.ref.clear();
  }
  LOCARA_RETURN_IF_ERROR(runtime.register_app(manifest));
  RegisteredApp app{manifest.id, manifest.name, new_app_token(), {}};
  for (const ManifestModel& model : manifest.models) app.models.push_back(model.name);
  std::lock_guard lock(mutex_);
  app_by_token_[app.token] = app.id;
  apps_[app.id] = app;
  return app;
}

Status AppRegistry::add_default(Runtime& runtime, uint64_t budget_bytes) {
  LOCARA_RETURN_IF_ERROR(runtime.register_app(kDefaultApp, budget_bytes));
  std::lock_guard lock(mutex_);
  apps_[kDefaultApp] = RegisteredApp{kDefaultApp, "Requests without an app token", "", {}};
  return ok_status();
}

Expected<std::string> AppRegistry::app_for(std::string_view authorization) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer)) return std::string(kDefaultApp);
  std::string_view token = authorization.substr(kBearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (!token.starts_with(kAppTokenPrefix)) return std::string(kDefaultApp);
  std::lock_guard lock(mutex_);
  auto it = app_by_token_.find(token);
  if (it == app_by_token_.end()) {
    return make_error(ErrorCode::kNotFound,
                      "the app token in the Authorization header is not registered with this "
                      "daemon (register the app with POST /locara/v1/apps)");
  }
  return it->second;
}

bool AppRegistry::app_has_model(std::string_view app, std::string_view model) const {
  std::lock_guard lock(mutex_);
  auto it = apps_.find(app);
  if (it == apps_.end()) return false;
  return std::find(it->second.models.begin(), it->second.models.end(), model) !=
         it->second.models.end();
}

std::vector<RegisteredApp> AppRegistry::list() const {
  std::lock_guard lock(mutex_);
  std::vector<RegisteredApp> apps;
  for (const auto& [id, app] : apps_) apps.push_back(app);
  return apps;
}

}  // namespace locara::server
