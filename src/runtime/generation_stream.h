// The bounded channel between a generating sequence and whoever reads its tokens: a
// slow reader pauses the generation (back-pressure), a reader that leaves cancels it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"
#include "engine/session.h"

namespace locara {

// The prompt was accepted (tokenized, fits the context) and prefill is starting.
struct StreamStarted {
  int64_t n_prompt_tokens = 0;
  int64_t n_ctx = 0;
  double queue_seconds = 0.0;  // waiting for a free sequence
  double load_seconds = 0.0;   // acquiring the model (0 when it was loaded already)
};

// A token with its text (its own piece, whole or not) and log-probability.
struct TokenLogprob {
  int32_t token = 0;
  std::string piece;
  float logprob = 0.0f;
};

// One generated token (or, with token -1, the last bytes of a split UTF-8 character).
struct StreamToken {
  int32_t token = 0;
  std::string text;  // whole UTF-8 characters only
  // Filled when the job asked for log-probabilities: the sampled token's, and the most
  // likely alternatives, as sampling/logprobs.h computes them.
  std::optional<TokenLogprob> sampled;
  std::vector<TokenLogprob> top;
};

// The generation ended normally (or was cancelled by the reader).
struct StreamFinished {
  FinishReason finish_reason = FinishReason::kStop;
  int64_t n_prompt_tokens = 0;
  int64_t n_generated = 0;
  double prompt_seconds = 0.0;
  double generation_seconds = 0.0;
};

// The generation could not start or stopped on an error (also: the runtime shutting down).
struct StreamFailed {
  Error error;
};

using StreamItem = std::variant<StreamStarted, StreamToken, StreamFinished, StreamFailed>;

// Thread-safe; one producer and one consumer. The last item (finished or failed) never
// waits for room, so a producer can always end a stream.
class GenerationStream {
 public:
  explicit GenerationStream(size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

  // Producer: waits while `capacity` items are waiting to be read. Returns false (and
  // drops the item) once the reader cancelled.
  bool push(StreamItem item);
  // Producer: the last item; wakes the reader. Later pushes are dropped.
  void finish(StreamItem last);

  // Consumer: the next item, or nullopt after `timeout` with nothing to read.
  std::optional<StreamItem> next(std::chrono::milliseconds timeout);
  // Consumer: the reader is gone; the producer stops at its next push.
  void cancel();
  // Owner (shutdown): pushes return false from now on, also one waiting for room; the
  // reader still gets what is queued and the last item.
  void interrupt();

  bool cancelled() const;
  bool finished() const;
  size_t buffered() const;
  size_t capacity() const { return capacity_; }
  // Items pushed so far (tokens and the rest): a reader that stalls keeps it flat.
  uint64_t pushed() const;

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable readable_;
  std::condition_variable writable_;
  std::deque<StreamItem> items_;
  uint64_t pushed_ = 0;
  bool cancelled_ = false;
  bool interrupted_ = false;
  bool finished_ = false;
};

}  // namespace locara
