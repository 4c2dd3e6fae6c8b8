#include "server/server.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

#include "platform/cpu_topology.h"
#include "server/api_error.h"
#include "server/routes.h"

namespace locara::server {
namespace {

// When this request started, for its log line (the logger runs on the request's thread).
thread_local std::chrono::steady_clock::time_point t_request_start;

constexpr std::array<const char*, 20> kEndpoints = {"/v1/chat/completions",
                                                    "/v1/completions",
                                                    "/v1/models",
                                                    "/api/generate",
                                                    "/api/chat",
                                                    "/api/tags",
                                                    "/api/ps",
                                                    "/api/show",
                                                    "/api/version",
                                                    "/locara/v1/apps",
                                                    "/locara/v1/events",
                                                    "/health",
                                                    "/metrics",
                                                    "/",
                                                    "/api/embed",
                                                    "/api/pull",
                                                    "/api/delete",
                                                    "/api/copy",
                                                    "/v1/embeddings",
                                                    "/apply-template"};

}  // namespace

std::string endpoint_label(const std::string& path) {
  if (std::find(kEndpoints.begin(), kEndpoints.end(), path) != kEndpoints.end()) return path;
  if (path.starts_with("/v1/models/")) return "/v1/models/{name}";
  if (path.starts_with("/locara/v1/models/") && path.ends_with("/pin")) {
    return "/locara/v1/models/{name}/pin";
  }
  return "other";
}

Expected<std::unique_ptr<Server>> Server::create(ServerOptions options) {
  LOCARA_ASSIGN_OR_RETURN(std::unique_ptr<Runtime> runtime, Runtime::create(options.runtime));
  return std::unique_ptr<Server>(new Server(std::move(options), std::move(runtime)));
}

Server::Server(ServerOptions options, std::unique_ptr<Runtime> runtime)
    : options_(std::move(options)),
      runtime_(std::move(runtime)),
      store_(options_.models_dir.empty() ? ModelStore::default_dir() : options_.models_dir),
      keep_alive_(*runtime_) {
  SchedulerOptions scheduler;
  scheduler.parallelism = std::max(1, options_.parallelism);
  scheduler.max_queue = std::max(0, options_.max_queue);
  scheduler.threads_per_sequence =
      options_.threads_per_sequence > 0
          ? options_.threads_per_sequence
          : std::max(1, physical_performance_cores() / scheduler.parallelism);
  scheduler.stream_capacity = options_.stream_capacity;
  options_.runtime.plan.n_threads = scheduler.threads_per_sequence;
  scheduler_ = std::make_unique<Scheduler>(*runtime_, scheduler);
  context_ = std::make_unique<ServerContext>(options_, *runtime_, *scheduler_, store_, apps_,
                                             metrics_, keep_alive_);
}

Server::~Server() {
  stop();
}

void Server::log_request(const httplib::Request& req, const httplib::Response& res) {
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_request_start)
          .count();
  metrics_.count_request(endpoint_label(req.path), res.status);
  const std::string line =
      fmt::format("{:%Y-%m-%dT%H:%M:%S} {} {} {} {} {:.1f} ms", fmt::localtime(std::time(nullptr)),
                  req.remote_addr, req.method, req.path, res.status, ms);
  if (options_.log) {
    options_.log(line);
  } else {
    fmt::print(stderr, "{}\n", line);
  }
}

void Server::configure_http() {
  http_.new_task_queue = [threads = std::max(4, options_.http_threads)] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  http_.set_payload_max_length(options_.max_body_bytes);
  http_.set_write_timeout(options_.write_timeout);
  http_.set_keep_alive_timeout(2);
  http_.set_tcp_nodelay(true);
  // Only SO_REUSEADDR: a second daemon on the same port must fail to bind, not share it.
  http_.set_socket_options([buffer = options_.socket_buffer_bytes](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (buffer > 0) setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof(buffer));
  });
  http_.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    t_request_start = std::chrono::steady_clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http_.set_logger(
      [this](const httplib::Request& req, const httplib::Response& res) { log_request(req, res); });
  const size_t max_body = options_.max_body_bytes;
  http_.set_error_handler(httplib::Server::HandlerWithResponse(
      [max_body](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        std::string message = fmt::format("HTTP {}", res.status);
        if (res.status == 404) message = fmt::format("no route for {} {}", req.method, req.path);
        if (res.status == 413) {
          message =
              fmt::format("the request body exceeds the limit of {} bytes (max_body_mb)", max_body);
        }
        send_openai_error(res, ApiError{res.status, "", message, "", 0});
        return httplib::Server::HandlerResponse::Handled;
      }));
  http_.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr exception) {
        std::string what = "unknown exception";
        try {
          if (exception) std::rethrow_exception(exception);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        send_openai_error(res, ApiError{500, "", "internal error: " + what, "", 0});
      });
  add_openai_routes(http_, *context_);
  add_ollama_routes(http_, *context_);
  add_locara_routes(http_, *context_);
  add_health_routes(http_, *context_);
  add_template_routes(http_, *context_);
}

Expected<int> Server::start() {
  {
    std::lock_guard lock(mutex_);
    if (started_) return port_;
    started_ = true;
  }
  const uint64_t default_budget = options_.default_app_budget_bytes > 0
                                      ? options_.default_app_budget_bytes
                                      : runtime_->budget_bytes();
  LOCARA_RETURN_IF_ERROR(apps_.add_default(*runtime_, default_budget));
  configure_http();
  if (options_.port == 0) {
    port_ = http_.bind_to_any_port(options_.host);
    if (port_ <= 0) {
      return make_error(ErrorCode::kIoError, "cannot bind {} on any port", options_.host);
    }
  } else {
    if (!http_.bind_to_port(options_.host, options_.port)) {
      return make_error(ErrorCode::kIoError,
                        "cannot bind {}:{} (in use by another process, or not an address of "
                        "this machine)",
                        options_.host, options_.port);
    }
    port_ = options_.port;
  }
  listener_ = std::thread([this] { http_.listen_after_bind(); });
  ticker_ = std::thread([this] { tick_loop(); });
  return port_;
}

void Server::tick_loop() {
  SubscriptionOptions subscription_options{"metrics", 1024, {EventKind::kModelUnloaded}};
  Subscription unloads = runtime_->subscribe(subscription_options);
  auto next_tick = std::chrono::steady_clock::now();
  while (!stopping_) {
    if (std::chrono::steady_clock::now() >= next_tick) {
      runtime_->tick();
      keep_alive_.tick();
      next_tick = std::chrono::steady_clock::now() + options_.tick_interval;
    }
    // Waiting on the subscription doubles as the tick loop's sleep.
    if (auto event = unloads.wait_next(std::chrono::milliseconds(100))) {
      if (const auto* unloaded = event->get<ModelUnloadedEvent>()) {
        metrics_.count_eviction(unload_reason_name(unloaded->reason));
      }
    }
    if (unloads.dropped()) unloads = runtime_->subscribe(subscription_options);
  }
}

void Server::stop() {
  if (stopping_.exchange(true)) {
    wait();
    return;
  }
  context_->stopping = true;
  // In-flight generations end first, so their streams close with an error event while
  // the connections are still open.
  scheduler_->shutdown();
  bool was_started;
  {
    std::lock_guard lock(mutex_);
    was_started = started_;
  }
  if (was_started) {
    // Give streaming handlers a moment to write their final event before sockets close.
    for (int i = 0; i < 50 && scheduler_->stats().running > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    http_.stop();
  }
  if (listener_.joinable()) listener_.join();
  if (ticker_.joinable()) ticker_.join();
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  stopped_cv_.notify_all();
}

void Server::wait() {
  std::unique_lock lock(mutex_);
  stopped_cv_.wait(lock, [&] { return stopped_; });
}

}  // namespace locara::server
