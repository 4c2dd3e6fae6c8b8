#include "runtime/app_session.h"

#include <utility>

#include "runtime/runtime.h"

namespace locara {

AppSessionCharge& AppSessionCharge::operator=(AppSessionCharge&& other) noexcept {
  if (this != &other) {
    reset();
    parts_ = std::exchange(other.parts_, nullptr);
    app_ = std::move(other.app_);
    id_ = std::exchange(other.id_, 0);
    kv_bytes_ = std::exchange(other.kv_bytes_, 0);
    scratch_bytes_ = std::exchange(other.scratch_bytes_, 0);
  }
  return *this;
}

void AppSessionCharge::reset() {
  if (parts_ == nullptr) return;
  parts_->app_budget.close_session(app_, id_);
  parts_ = nullptr;
}

void AppSessionCharge::update(uint64_t kv_bytes, uint64_t scratch_bytes) {
  kv_bytes_ = kv_bytes;
  scratch_bytes_ = scratch_bytes;
  if (parts_ == nullptr) return;
  parts_->app_budget.update_session(app_, id_, kv_bytes, scratch_bytes);
  parts_->publish_over_budget();
}

AppSession& AppSession::operator=(AppSession&& other) noexcept {
  if (this != &other) {
    session_.reset();  // ours ends before our charge and lease are replaced
    charge_ = std::move(other.charge_);
    lease_ = std::move(other.lease_);
    session_ = std::move(other.session_);
  }
  return *this;
}

}  // namespace locara
