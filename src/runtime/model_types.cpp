#include "runtime/model_types.h"

#include <utility>

namespace locara {

const char* model_state_name(ModelState state) {
  switch (state) {
    case ModelState::kUnloaded:
      return "unloaded";
    case ModelState::kLoading:
      return "loading";
    case ModelState::kLoaded:
      return "loaded";
  }
  return "unknown";
}

const char* unload_reason_name(UnloadReason reason) {
  switch (reason) {
    case UnloadReason::kIdle:
      return "idle";
    case UnloadReason::kEvicted:
      return "evicted";
    case UnloadReason::kPressure:
      return "pressure";
    case UnloadReason::kPressureAfterUse:
      return "pressure_after_use";
    case UnloadReason::kRequested:
      return "requested";
    case UnloadReason::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

const char* decision_action_name(DecisionAction action) {
  switch (action) {
    case DecisionAction::kLoad:
      return "load";
    case DecisionAction::kLoadFailed:
      return "load_failed";
    case DecisionAction::kUnload:
      return "unload";
    case DecisionAction::kDeferUnload:
      return "defer_unload";
    case DecisionAction::kCancelUnload:
      return "cancel_unload";
    case DecisionAction::kRefuse:
      return "refuse";
    case DecisionAction::kPin:
      return "pin";
    case DecisionAction::kUnpin:
      return "unpin";
  }
  return "unknown";
}

ModelLease& ModelLease::operator=(ModelLease&& other) noexcept {
  if (this != &other) {
    reset();
    owner_ = std::exchange(other.owner_, nullptr);
    model_id_ = other.model_id_;
    name_ = std::move(other.name_);
    model_ = std::move(other.model_);
  }
  return *this;
}

void ModelLease::reset() {
  LeaseOwner* owner = std::exchange(owner_, nullptr);
  // Our reference goes first, so that an unload the release triggers frees the model.
  model_.reset();
  if (owner != nullptr) owner->release_lease(model_id_);
}

}  // namespace locara
