// What every route handler reaches: the runtime, its scheduler, the model store, apps,
// metrics and keep-alive windows, plus the two lookups all routes share (app, model).
#pragma once

#include <httplib.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "base/status.h"
#include "locara/runtime.h"
#include "runtime/model_store.h"
#include "runtime/scheduler.h"
#include "server/app_registry.h"
#include "server/keep_alive.h"
#include "server/metrics.h"
#include "server/server_options.h"

namespace locara::server {

// A model a request named, resolved to the runtime's name for it.
struct ResolvedModel {
  std::string name;    // the runtime's (and the store's) name
  StoredModel stored;  // its store entry (empty path for app-manifest models)
};

// Thread-safe: the parts are; the context adds one lock around runtime model names.
class ServerContext {
 public:
  ServerContext(const ServerOptions& options, Runtime& runtime, Scheduler& scheduler,
                ModelStore& store, AppRegistry& apps, Metrics& metrics, KeepAlive& keep_alive)
      : options(options),
        runtime(runtime),
        scheduler(scheduler),
        store(store),
        apps(apps),
        metrics(metrics),
        keep_alive(keep_alive) {}

  // The app the request's Authorization header speaks for (kNotFound: an unknown token).
  Expected<std::string> app_for(const httplib::Request& req) const;
  // The model as `app` names it: an app-manifest name, or a store name (made known to the
  // runtime on first use). kNotFound names the model and the store's folder.
  Expected<ResolvedModel> resolve_model(std::string_view app, std::string_view requested);

  const ServerOptions& options;
  Runtime& runtime;
  Scheduler& scheduler;
  ModelStore& store;
  AppRegistry& apps;
  Metrics& metrics;
  KeepAlive& keep_alive;
  std::atomic<bool> stopping{false};

 private:
  std::mutex mutex_;
  std::set<std::string> added_;  // store models the runtime knows
};

}  // namespace locara::server
