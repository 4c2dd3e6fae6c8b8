// The `locara serve` daemon: an HTTP server whose threads only parse, wait and write,
// over the runtime, its scheduler, the model store and the app registry; a tick thread
// drives the runtime's periodic work. Stopping ends in-flight streams with an error event.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"
#include "locara/runtime.h"
#include "runtime/model_store.h"
#include "runtime/scheduler.h"
#include "server/app_registry.h"
#include "server/keep_alive.h"
#include "server/metrics.h"
#include "server/server_context.h"
#include "server/server_options.h"

namespace locara::server {

// Thread-safe: start() once, stop() from any thread (a signal handler's helper thread).
class Server {
 public:
  static Expected<std::unique_ptr<Server>> create(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the address and starts serving on background threads. Returns the port.
  Expected<int> start();
  // Blocks until stop() has finished.
  void wait();
  // Stops taking requests, ends in-flight generations (their streams get an error
  // event), then closes the listener and joins every thread. Idempotent.
  void stop();

  int port() const { return port_; }
  const ServerOptions& options() const { return options_; }
  Runtime& runtime() { return *runtime_; }
  Scheduler& scheduler() { return *scheduler_; }
  Metrics& metrics() { return metrics_; }
  ModelStore& store() { return store_; }

 private:
  Server(ServerOptions options, std::unique_ptr<Runtime> runtime);
  void configure_http();
  void tick_loop();
  void log_request(const httplib::Request& req, const httplib::Response& res);

  ServerOptions options_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<Scheduler> scheduler_;
  ModelStore store_;
  AppRegistry apps_;
  Metrics metrics_;
  KeepAlive keep_alive_;
  std::unique_ptr<ServerContext> context_;
  httplib::Server http_;
  int port_ = 0;

  std::thread listener_;
  std::thread ticker_;
  std::mutex mutex_;
  std::condition_variable stopped_cv_;
  bool started_ = false;
  bool stopped_ = false;
  std::atomic<bool> stopping_{false};
};

// "/v1/chat/completions", or the route's pattern for paths with a name in them, or
// "other": the endpoint label of metrics and logs.
std::string endpoint_label(const std::string& path);

}  // namespace locara::server
