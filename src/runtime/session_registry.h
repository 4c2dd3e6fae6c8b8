// Live sessions as the memory pressure ladder sees them: each registers a hook that drops
// its KV/prefix caches, so the ladder can free idle sessions' memory without knowing engines.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace locara {

struct SessionHooks {
  std::string app;
  std::string model;
  // Frees the session's KV and prefix caches (spilling to disk if it can); returns the
  // bytes released. Called only while is_idle() says the session is not generating.
  std::function<uint64_t()> release_caches;
  // Whether the session is between requests; empty: always.
  std::function<bool()> is_idle;
};

// What one release pass did.
struct CacheRelease {
  size_t sessions = 0;  // sessions whose caches were released
  uint64_t bytes = 0;
};

class SessionRegistry;

// A session's registration; ending it unregisters (waiting for a release pass that is
// calling its hooks). Move-only. May outlive the registry.
class SessionRegistration {
 public:
  SessionRegistration() = default;
  SessionRegistration(SessionRegistration&& other) noexcept { *this = std::move(other); }
  SessionRegistration& operator=(SessionRegistration&& other) noexcept;
  ~SessionRegistration() { reset(); }
  void reset();
  bool registered() const { return id_ != 0; }

 private:
  friend class SessionRegistry;
  struct Core;
  SessionRegistration(std::weak_ptr<Core> core, uint64_t id) : core_(std::move(core)), id_(id) {}
  std::weak_ptr<Core> core_;
  uint64_t id_ = 0;
};

// Thread-safe. Hooks run under the registry's lock: they must not call back into it.
class SessionRegistry {
 public:
  SessionRegistry();

  SessionRegistration add(SessionHooks hooks);
  // Calls release_caches of every idle session.
  CacheRelease release_idle_caches();
  size_t size() const;

 private:
  std::shared_ptr<SessionRegistration::Core> core_;
};

struct SessionRegistration::Core {
  std::mutex mutex;
  std::map<uint64_t, SessionHooks> sessions;
  uint64_t next_id = 1;
};

}  // namespace locara
