// Ollama's keep_alive: how long a model stays loaded after a request (a duration string
// like "5m" or "1h30m", or seconds; 0 unloads at once; negative keeps it loaded).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"
#include "locara/runtime.h"

namespace locara::server {

// nullopt when absent or null; a negative duration means "forever". Errors name the value.
Expected<std::optional<std::chrono::milliseconds>> parse_keep_alive(const nlohmann::json* value);

// Thread-safe. Pins a model for its keep-alive window (through the requesting app) and
// unpins/unloads it when the window ends; the daemon calls tick() about once a second.
class KeepAlive {
 public:
  explicit KeepAlive(Runtime& runtime) : runtime_(runtime) {}

  // After a request to `model` by `app` asked to keep it for `duration`.
  void apply(const std::string& app, const std::string& model, std::chrono::milliseconds duration);
  void tick();
  // When the model's window ends, if one is open (Ollama's /api/ps "expires_at").
  std::optional<std::chrono::system_clock::time_point> expires_at(const std::string& model) const;

 private:
  struct Window {
    std::string app;
    std::optional<std::chrono::steady_clock::time_point> until;  // nullopt: forever
    std::chrono::system_clock::time_point until_wall;
  };
  void end_window_locked(const std::string& model, const Window& window);

  Runtime& runtime_;
  mutable std::mutex mutex_;
  std::map<std::string, Window> windows_;  // by model
};

}  // namespace locara::server
