// What `locara serve` runs with: address, model store, scheduler bounds, limits, and the
// runtime's budget; read from a TOML config file, then overridden by flags.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "locara/runtime.h"

namespace locara::server {

inline constexpr int kDefaultPort = 11435;

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  int port = kDefaultPort;         // 0: any free port (tests)
  std::string models_dir;          // empty: ModelStore::default_dir()
  int parallelism = 4;             // sequences generating at once
  int max_queue = 16;              // requests waiting beyond them; more get 503
  int threads_per_sequence = 0;    // 0: physical cores / parallelism, at least 1
  size_t max_body_bytes = 8u << 20;
  uint64_t default_app_budget_bytes = 0;   // the default app's budget; 0: the runtime's budget
  int http_threads = 64;                   // connections served at once (they wait, never compute)
  std::chrono::seconds write_timeout{60};  // a client that reads nothing this long is dropped
  size_t stream_capacity = 16;             // tokens buffered per stream before generation pauses
  // SO_SNDBUF of client connections: with stream_capacity, what a stalled reader can hold
  // back before its generation pauses. 0: the OS's (which grows to megabytes).
  int socket_buffer_bytes = 0;
  std::chrono::milliseconds tick_interval{1000};
  RuntimeOptions runtime;
  // Where the per-request log lines go; empty: stderr.
  std::function<void(const std::string&)> log;
};

// Reads a config file into `options` (keys it lacks keep their values):
//   [server] host, port, models_dir, parallelism, max_queue, threads_per_sequence,
//            max_body_mb, http_threads, write_timeout_s, stream_capacity, socket_buffer_kb
//   [apps]   default_memory_gb
//   [runtime] budget_gb, idle_timeout_s, context
// Unknown keys and wrong types are errors naming the key and the line.
Status load_server_config(const std::string& path, ServerOptions& options);

}  // namespace locara::server
