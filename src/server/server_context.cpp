#include "server/server_context.h"

namespace locara::server {

Expected<std::string> ServerContext::app_for(const httplib::Request& req) const {
  return apps.app_for(req.get_header_value("Authorization"));
}

Expected<ResolvedModel> ServerContext::resolve_model(std::string_view app,
                                                     std::string_view requested) {
  if (requested.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "'model' is required");
  }
  if (apps.app_has_model(app, requested)) return ResolvedModel{std::string(requested), {}};
  LOCARA_ASSIGN_OR_RETURN(StoredModel stored, store.find(requested));
  std::lock_guard lock(mutex_);
  if (added_.count(stored.name) == 0) {
    PlanConfig plan = options.runtime.plan;
    plan.n_parallel = std::max(1, options.parallelism);
    auto added = runtime.add_model(stored.name, stored.path, ModelRole::kChat, plan);
    if (!added) {
      return make_error(added.error().code, "model '{}' ({}): {}", stored.name, stored.path,
                        added.error().message);
    }
    added_.insert(stored.name);
  }
  return ResolvedModel{stored.name, std::move(stored)};
}

}  // namespace locara::server
