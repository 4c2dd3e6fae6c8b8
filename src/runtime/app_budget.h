// Per-app memory accounting against each app's declared requires.memory_gb: its sessions'
// KV and scratch plus its share of the weights (a model shared by k apps charges each 1/k).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/app_manifest.h"
#include "runtime/planner.h"

namespace locara {

// An app's charges now. Bytes.
struct AppFootprint {
  std::string app_id;
  uint64_t declared_bytes = 0;       // requires.memory_gb
  uint64_t weights_share_bytes = 0;  // sum over its models of model_bytes / apps sharing it
  uint64_t kv_bytes = 0;             // its sessions' KV caches
  uint64_t scratch_bytes = 0;        // its sessions' scratch and overhead
  uint64_t total_bytes() const { return weights_share_bytes + kv_bytes + scratch_bytes; }
  bool over_budget() const { return total_bytes() > declared_bytes; }
};

// What loading a model (and opening one session on it) would charge an app. model_bytes is
// the model's shared cost (mapped weights plus its metadata/tokenizer); kv and scratch are
// the session's own.
struct AppLoad {
  std::string model_key;  // identifies the model across apps (e.g. its canonical path)
  uint64_t model_bytes = 0;
  uint64_t kv_bytes = 0;
  uint64_t scratch_bytes = 0;
};
// The charges of a plan: weights + metadata shared, KV + scratch + overhead the app's own.
AppLoad app_load_from_plan(const Plan& plan, std::string model_key);

// Thread-safe: every method locks; the over-budget callback runs outside the lock, on the
// thread whose call pushed an app over its declaration.
class AppBudget {
 public:
  using OverBudgetCallback = std::function<void(const AppFootprint&)>;

  Status register_app(std::string app_id, uint64_t declared_bytes);
  Status register_app(const AppManifest& manifest);
  // Drops the app and its charges (the apps it shared models with now pay more).
  void unregister_app(std::string_view app_id);

  // Whether the app could take this load within its declaration; changes nothing. The
  // refusal (kResourceExhausted) names the app, what it would need, and its budget.
  Status check_load(std::string_view app_id, const AppLoad& load) const;

  // Charges the app a share of a model (refused like check_load). Attaching a model the
  // app already holds is a no-op. Lowers the other sharers' shares.
  Status attach_model(std::string_view app_id, std::string_view model_key, uint64_t model_bytes);
  // Raises the remaining sharers' shares, which may push them over (reported).
  void detach_model(std::string_view app_id, std::string_view model_key);

  // Charges a session's KV and scratch (refused like check_load); session_id is the caller's.
  Status open_session(std::string_view app_id, uint64_t session_id, uint64_t kv_bytes,
                      uint64_t scratch_bytes);
  // Records a session's measured figures; never refuses, reports going over.
  void update_session(std::string_view app_id, uint64_t session_id, uint64_t kv_bytes,
                      uint64_t scratch_bytes);
  void close_session(std::string_view app_id, uint64_t session_id);

  Expected<AppFootprint> footprint(std::string_view app_id) const;
  std::vector<AppFootprint> footprints() const;  // by app id
  // Apps whose charges exceed their declaration now (the app_over_budget event's source).
  std::vector<AppFootprint> over_budget_apps() const;
  // Called once each time an app goes from within its declaration to over it.
  void set_over_budget_callback(OverBudgetCallback callback);

 private:
  struct Session {
    uint64_t kv_bytes = 0;
    uint64_t scratch_bytes = 0;
  };
  struct App {
    uint64_t declared_bytes = 0;
    std::vector<std::string> models;  // keys of the models it shares
    std::map<uint64_t, Session> sessions;
    bool reported_over = false;  // edge trigger for the callback
  };
  struct SharedModel {
    uint64_t model_bytes = 0;
    int sharers = 0;
  };

  Status check_load_locked(std::string_view app_id, const AppLoad& load) const;
  AppFootprint footprint_locked(const std::string& app_id, const App& app) const;
  // Apps newly over their declaration since the last report; marks them reported.
  std::vector<AppFootprint> collect_newly_over_locked();
  void report(const std::vector<AppFootprint>& newly_over) const;

  mutable std::mutex mutex_;
  std::map<std::string, App, std::less<>> apps_;
  std::map<std::string, SharedModel, std::less<>> models_;
  OverBudgetCallback callback_;
};

// "2.50 GiB": byte counts in messages and tables.
std::string format_bytes(uint64_t bytes);

}  // namespace locara
