// One generation as the HTTP routes see it: submitted to the scheduler, read piece by
// piece with stop sequences applied, summarized at the end (usage, timings, finish
// reason), with its time to first token and speeds recorded in the metrics.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/generation_stream.h"
#include "runtime/scheduler.h"
#include "server/metrics.h"
#include "server/stop_sequences.h"

namespace locara::server {

struct CompletionDelta {
  std::string text;                 // to send now (stop sequences cut, their prefixes held)
  std::vector<StreamToken> tokens;  // the tokens this piece came from
};

struct CompletionSummary {
  std::string finish_reason = "stop";  // "stop" or "length"
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  double queue_seconds = 0.0;
  double load_seconds = 0.0;
  double prompt_seconds = 0.0;
  double generation_seconds = 0.0;
  double total_seconds = 0.0;
  std::optional<Error> error;  // the generation failed after it started
};

// Not thread-safe: one reader (the request's HTTP thread). Ending it cancels the
// generation if it still runs.
class Completion {
 public:
  // Submits the job and waits until its prompt is accepted; refusals (queue full, budget,
  // unknown model, prompt too long) come back as errors before anything is sent.
  static Expected<std::unique_ptr<Completion>> start(Scheduler& scheduler, Metrics& metrics,
                                                     GenerationJob job,
                                                     std::vector<std::string> stop);
  ~Completion();
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  // Waits for the next piece; false once the completion ended (summary() is final then).
  bool next(CompletionDelta& delta);
  // next() that waits at most `timeout` (rounded up to whole milliseconds, at least one).
  enum class Wait { kPiece, kTimedOut, kEnded };
  Wait next_within(CompletionDelta& delta, std::chrono::steady_clock::duration timeout);
  // Reads to the end (non-streaming requests).
  CompletionDelta collect();
  // The client left: the generation stops at its next token.
  void cancel();
  const CompletionSummary& summary() const { return summary_; }

 private:
  Completion(Metrics& metrics, std::shared_ptr<GenerationStream> stream,
             std::vector<std::string> stop, std::chrono::steady_clock::time_point arrival);
  void finish(const StreamFinished& finished);

  Metrics& metrics_;
  std::shared_ptr<GenerationStream> stream_;
  StopMatcher stop_;
  std::chrono::steady_clock::time_point arrival_;
  CompletionSummary summary_;
  bool first_token_seen_ = false;
  bool ended_ = false;
};

}  // namespace locara::server
