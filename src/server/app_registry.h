// Apps registered with the daemon: their manifests and the bearer tokens that account a
// request to them. Requests without an app token belong to the default app.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "locara/runtime.h"
#include "runtime/model_store.h"

namespace locara::server {

inline constexpr const char* kDefaultApp = "default";
// App tokens start with this; other bearer values (an SDK's placeholder key) are not
// app tokens and the request goes to the default app.
inline constexpr std::string_view kAppTokenPrefix = "lca_";

struct RegisteredApp {
  std::string id;
  std::string name;
  std::string token;                // empty for the default app
  std::vector<std::string> models;  // the manifest's model names
};

// Thread-safe.
class AppRegistry {
 public:
  // Resolves model-store refs to paths, registers the manifest with the runtime and
  // issues a token. Refuses an id already registered.
  Expected<RegisteredApp> add(Runtime& runtime, const ModelStore& store, AppManifest manifest);
  // The default app, with its budget.
  Status add_default(Runtime& runtime, uint64_t budget_bytes);

  // The app an Authorization header speaks for: none or a non-app bearer value gives the
  // default app; an unknown app token is kNotFound (401 to the client).
  Expected<std::string> app_for(std::string_view authorization) const;
  // Whether `model` is one of the app's manifest names (the runtime resolves those).
  bool app_has_model(std::string_view app, std::string_view model) const;
  std::vector<RegisteredApp> list() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, RegisteredApp, std::less<>> apps_;        // by id
  std::map<std::string, std::string, std::less<>> app_by_token_;  // token -> id
};

// A fresh random app token: the prefix and 32 hex digits.
std::string new_app_token();
// `digits` random hex digits (response ids).
std::string random_hex(int digits);

}  // namespace locara::server
