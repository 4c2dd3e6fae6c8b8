#include "server/completion.h"

#include <algorithm>

namespace locara::server {
namespace {

constexpr std::chrono::milliseconds kPollInterval{200};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

const char* finish_reason_for_api(FinishReason reason) {
  // A full context ends a completion the way max_tokens does, for OpenAI and Ollama alike.
  return reason == FinishReason::kLength || reason == FinishReason::kContextFull ? "length"
                                                                                 : "stop";
}

}  // namespace

Completion::Completion(Metrics& metrics, std::shared_ptr<GenerationStream> stream,
                       std::vector<std::string> stop, std::chrono::steady_clock::time_point arrival)
    : metrics_(metrics), stream_(std::move(stream)), stop_(std::move(stop)), arrival_(arrival) {}

Completion::~Completion() {
  if (!ended_) stream_->cancel();
}

Expected<std::unique_ptr<Completion>> Completion::start(Scheduler& scheduler, Metrics& metrics,
                                                        GenerationJob job,
                                                        std::vector<std::string> stop) {
  const auto arrival = std::chrono::steady_clock::now();
  LOCARA_ASSIGN_OR_RETURN(std::shared_ptr<GenerationStream> stream,
                          scheduler.submit(std::move(job)));
  std::unique_ptr<Completion> completion(
      new Completion(metrics, std::move(stream), std::move(stop), arrival));
  for (;;) {
    std::optional<StreamItem> item = completion->stream_->next(kPollInterval);
    if (!item) continue;
    if (auto* failed = std::get_if<StreamFailed>(&*item)) {
      completion->ended_ = true;
      return failed->error;
    }
    if (auto* started = std::get_if<StreamStarted>(&*item)) {
      completion->summary_.prompt_tokens = started->n_prompt_tokens;
      completion->summary_.queue_seconds = started->queue_seconds;
      completion->summary_.load_seconds = started->load_seconds;
      return completion;
    }
    if (std::holds_alternative<StreamFinished>(*item)) {  // cancelled before it started
      completion->ended_ = true;
      return make_error(ErrorCode::kInternal, "the generation ended before it started");
    }
  }
}

void Completion::finish(const StreamFinished& finished) {
  ended_ = true;
  summary_.prompt_tokens = finished.n_prompt_tokens;
  summary_.prompt_seconds = finished.prompt_seconds;
  summary_.generation_seconds = finished.generation_seconds;
  summary_.total_seconds = seconds_since(arrival_);
  if (!stop_.stopped()) summary_.finish_reason = finish_reason_for_api(finished.finish_reason);
  metrics_.add_generation(summary_.prompt_tokens, summary_.prompt_seconds,
                          summary_.completion_tokens, summary_.generation_seconds);
}

bool Completion::next(CompletionDelta& delta) {
  for (;;) {
    switch (next_within(delta, kPollInterval)) {
      case Wait::kPiece:
        return true;
      case Wait::kEnded:
        return false;
      case Wait::kTimedOut:
        break;
    }
  }
}

Completion::Wait Completion::next_within(CompletionDelta& delta,
                                         std::chrono::steady_clock::duration timeout) {
  delta = CompletionDelta{};
  if (ended_) return Wait::kEnded;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    std::optional<StreamItem> item = stream_->next(std::max(left, std::chrono::milliseconds(1)));
    if (!item) {
      if (std::chrono::steady_clock::now() >= deadline) return Wait::kTimedOut;
      continue;
    }
    if (auto* token = std::get_if<StreamToken>(&*item)) {
      if (!first_token_seen_) {
        first_token_seen_ = true;
        metrics_.observe_time_to_first_token(seconds_since(arrival_));
      }
      if (token->token >= 0) ++summary_.completion_tokens;
      delta.text = stop_.push(token->text);
      delta.tokens.push_back(std::move(*token));
      if (stop_.stopped()) {
        // The generation may have run ahead of us; what it made past the stop is dropped.
        stream_->cancel();
        summary_.finish_reason = "stop";
        finish(StreamFinished{FinishReason::kStop, summary_.prompt_tokens,
                              summary_.completion_tokens, 0.0, seconds_since(arrival_)});
      }
      return Wait::kPiece;
    }
    if (auto* finished = std::get_if<StreamFinished>(&*item)) {
      finish(*finished);
      delta.text = stop_.flush();
      return delta.text.empty() ? Wait::kEnded : Wait::kPiece;
    }
    if (auto* failed = std::get_if<StreamFailed>(&*item)) {
      ended_ = true;
      summary_.error = failed->error;
      summary_.total_seconds = seconds_since(arrival_);
      delta.text = stop_.flush();
      return delta.text.empty() ? Wait::kEnded : Wait::kPiece;
    }
  }
}

CompletionDelta Completion::collect() {
  CompletionDelta all;
  CompletionDelta piece;
  while (next(piece)) {
    all.text += piece.text;
    for (StreamToken& token : piece.tokens) all.tokens.push_back(std::move(token));
  }
  return all;
}

void Completion::cancel() {
  if (ended_) return;
  stream_->cancel();
  ended_ = true;
}

}  // namespace locara::server
