// The request scheduler: generation jobs wait in a bounded queue for one of `parallelism`
// sequence slots, run on the scheduler's own threads, and stream tokens back through a
// bounded GenerationStream. Beyond the queue bound a job is refused (retry later).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "engine/session.h"
#include "locara/runtime.h"
#include "runtime/generation_stream.h"

namespace locara {

struct SchedulerOptions {
  int parallelism = 4;                  // sequences generating at once (over all models)
  int max_queue = 16;                   // jobs waiting for a slot; one more is refused
  int threads_per_sequence = 1;         // compute threads of each session
  size_t stream_capacity = 16;          // items a reader may leave unread before generation pauses
  std::chrono::seconds retry_after{1};  // what a refusal tells the client to wait
};

// One request's generation, in the runtime's vocabulary (no HTTP, no JSON).
struct GenerationJob {
  std::string app;    // who is charged (app budgets)
  std::string model;  // a runtime model name, or the app's own name for it
  // The prompt as text, tokenized as a completion is (BOS added, specials parsed),
  // unless prompt_tokens is given.
  std::string prompt;
  std::vector<int32_t> prompt_tokens;
  int64_t n_ctx = 0;  // 0: the context the model was planned with
  GenerationOptions generation;
  int top_logprobs = -1;  // < 0: no log-probabilities; n >= 0: the sampled token's and n more
};

// Counters since the scheduler started, and what runs now.
struct SchedulerStats {
  int running = 0;
  int queued = 0;
  uint64_t submitted = 0;
  uint64_t refused = 0;    // queue full or shutting down
  uint64_t completed = 0;  // ended normally (any finish reason but cancelled)
  uint64_t cancelled = 0;  // the reader left
  uint64_t failed = 0;
  uint64_t tokens_generated = 0;
  uint64_t prompt_tokens = 0;
};

// Thread-safe. The runtime must outlive the scheduler. Destruction shuts down.
class Scheduler {
 public:
  Scheduler(Runtime& runtime, SchedulerOptions options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a job; its stream starts with StreamStarted (or ends with StreamFailed) and
  // ends with StreamFinished or StreamFailed. Refused with kResourceExhausted when the
  // queue is full or the scheduler is shutting down (is_busy_refusal() says which).
  Expected<std::shared_ptr<GenerationStream>> submit(GenerationJob job);

  // Stops taking jobs, fails queued ones, stops running ones at their next token (their
  // streams end with StreamFailed "shutting down"), and joins the threads.
  void shutdown();
  bool shutting_down() const { return shutting_down_.load(); }

  SchedulerStats stats() const;
  const SchedulerOptions& options() const { return options_; }

 private:
  struct Pending {
    GenerationJob job;
    std::shared_ptr<GenerationStream> stream;
    std::chrono::steady_clock::time_point submitted;
    bool queued = false;  // no slot was free when it came
  };

  void worker_loop();
  void run(Pending& pending, bool waited);
  // Everything between taking a slot and the stream's last item; returns it.
  StreamItem generate(Pending& pending, bool waited);

  Runtime& runtime_;
  const SchedulerOptions options_;
  std::atomic<bool> shutting_down_{false};

  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::deque<Pending> queue_;
  std::set<std::shared_ptr<GenerationStream>> running_streams_;  // interrupted by shutdown
  SchedulerStats stats_;
  std::vector<std::thread> workers_;
};

}  // namespace locara
