// Sessions on behalf of apps: a session's KV cache and scratch charged to its app's
// declared budget (app_budget.h) for as long as the session lives, and the engine session
// opened that way (planned, charged, then allocated).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/session.h"
#include "runtime/model_types.h"

namespace locara {

struct RuntimeParts;

// One session's charge to an app, ended by the destructor (or reset). An empty charge
// (default, or for an app the runtime does not limit, such as the CLI) does nothing.
// Move-only; not thread-safe itself. Must not outlive the runtime that issued it.
class AppSessionCharge {
 public:
  AppSessionCharge() = default;
  AppSessionCharge(AppSessionCharge&& other) noexcept { *this = std::move(other); }
  AppSessionCharge& operator=(AppSessionCharge&& other) noexcept;
  AppSessionCharge(const AppSessionCharge&) = delete;
  AppSessionCharge& operator=(const AppSessionCharge&) = delete;
  ~AppSessionCharge() { reset(); }

  // Ends the charge now: the app's footprint falls by it.
  void reset();
  bool active() const { return parts_ != nullptr; }
  const std::string& app() const { return app_; }
  uint64_t kv_bytes() const { return kv_bytes_; }
  uint64_t scratch_bytes() const { return scratch_bytes_; }

  // Records the session's figures now (measured after a long prompt, say). Never
  // refuses: an app that goes over its declaration gets an app_over_budget event.
  void update(uint64_t kv_bytes, uint64_t scratch_bytes);

 private:
  friend class Runtime;
  AppSessionCharge(RuntimeParts* parts, std::string app, uint64_t id, uint64_t kv_bytes,
                   uint64_t scratch_bytes)
      : parts_(parts),
        app_(std::move(app)),
        id_(id),
        kv_bytes_(kv_bytes),
        scratch_bytes_(scratch_bytes) {}

  RuntimeParts* parts_ = nullptr;
  std::string app_;
  uint64_t id_ = 0;
  uint64_t kv_bytes_ = 0;
  uint64_t scratch_bytes_ = 0;
};

// An engine session opened for an app through the runtime (Runtime::open_app_session). It
// owns the model's lease, the session's charge and the session, and ends them session
// first, then charge, then lease. Move-only; not thread-safe (one request uses it, as
// Session). Must not outlive the runtime.
class AppSession {
 public:
  AppSession(AppSession&&) noexcept = default;
  AppSession& operator=(AppSession&& other) noexcept;
  ~AppSession() { session_.reset(); }  // explicitly first: the session reads the model

  Session& session() { return *session_; }
  const Session& session() const { return *session_; }
  Session* operator->() { return session_.get(); }
  const ModelLease& lease() const { return lease_; }
  AppSessionCharge& charge() { return charge_; }
  const AppSessionCharge& charge() const { return charge_; }

 private:
  friend class Runtime;
  AppSession(ModelLease lease, AppSessionCharge charge, std::unique_ptr<Session> session)
      : lease_(std::move(lease)), charge_(std::move(charge)), session_(std::move(session)) {}

  // Destroyed in reverse order: session, charge, lease.
  ModelLease lease_;
  AppSessionCharge charge_;
  std::unique_ptr<Session> session_;
};

}  // namespace locara
