#include "runtime/session_registry.h"

#include <utility>

namespace locara {

SessionRegistration& SessionRegistration::operator=(SessionRegistration&& other) noexcept {
  if (this != &other) {
    reset();
    core_ = std::move(other.core_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void SessionRegistration::reset() {
  if (id_ == 0) return;
  if (auto core = core_.lock()) {
    std::lock_guard lock(core->mutex);
    core->sessions.erase(id_);
  }
  id_ = 0;
  core_.reset();
}

SessionRegistry::SessionRegistry() : core_(std::make_shared<SessionRegistration::Core>()) {}

SessionRegistration SessionRegistry::add(SessionHooks hooks) {
  std::lock_guard lock(core_->mutex);
  const uint64_t id = core_->next_id++;
  core_->sessions.emplace(id, std::move(hooks));
  return SessionRegistration(core_, id);
}

CacheRelease SessionRegistry::release_idle_caches() {
  CacheRelease release;
  std::lock_guard lock(core_->mutex);
  for (auto& [id, hooks] : core_->sessions) {
    if (!hooks.release_caches) continue;
    if (hooks.is_idle && !hooks.is_idle()) continue;
    const uint64_t bytes = hooks.release_caches();
    if (bytes > 0) {
      ++release.sessions;
      release.bytes += bytes;
    }
  }
  return release;
}

size_t SessionRegistry::size() const {
  std::lock_guard lock(core_->mutex);
  return core_->sessions.size();
}

}  // namespace locara
