#include "runtime/scheduler.h"

#include <algorithm>
#include <cmath>

#include "sampling/logprobs.h"

namespace locara {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

double elapsed_seconds(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}

// log-softmax of one logit, in double as sampling/logprobs.h computes the alternatives.
float token_logprob(std::span<const float> logits, int32_t token) {
  if (token < 0 || static_cast<size_t>(token) >= logits.size()) return 0.0f;
  double max_logit = -INFINITY;
  for (float logit : logits) {
    if (std::isfinite(logit)) max_logit = std::max<double>(max_logit, logit);
  }
  double sum = 0.0;
  for (float logit : logits) {
    if (std::isfinite(logit)) sum += std::exp(static_cast<double>(logit) - max_logit);
  }
  return static_cast<float>(static_cast<double>(logits[token]) - max_logit - std::log(sum));
}

}  // namespace

Scheduler::Scheduler(Runtime& runtime, SchedulerOptions options)
    : runtime_(runtime), options_(std::move(options)) {
  const int workers = std::max(1, options_.parallelism);
  workers_.reserve(static_cast<size_t>(workers));
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

Scheduler::~Scheduler() {
  shutdown();
}

Expected<std::shared_ptr<GenerationStream>> Scheduler::submit(GenerationJob job) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) {
    ++stats_.refused;
    return make_error(ErrorCode::kResourceExhausted, "the server is shutting down");
  }
  // Free slots take jobs at once; beyond them, max_queue may wait.
  const int free_slots = std::max(1, options_.parallelism) - stats_.running;
  const int waiting = static_cast<int>(queue_.size());
  if (waiting >= std::max(0, free_slots) + std::max(0, options_.max_queue)) {
    ++stats_.refused;
    return make_error(ErrorCode::kResourceExhausted,
                      "the server is busy: {} requests are generating and {} are queued (the "
                      "limit); retry in {} s",
                      stats_.running, waiting, options_.retry_after.count());
  }
  auto stream = std::make_shared<GenerationStream>(options_.stream_capacity);
  // No free slot now: the job counts as queued work (the pressure ladder's max_tokens cap).
  const bool queued = waiting >= free_slots;
  queue_.push_back(Pending{std::move(job), stream, std::chrono::steady_clock::now(), queued});
  ++stats_.submitted;
  work_.notify_one();
  return stream;
}

void Scheduler::shutdown() {
  std::deque<Pending> dropped;
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    dropped.swap(queue_);
    stats_.failed += dropped.size();
    // A generation waiting for a slow reader must not hold shutdown up.
    for (const auto& stream : running_streams_) stream->interrupt();
  }
  work_.notify_all();
  for (Pending& pending : dropped) {
    pending.stream->finish(
        StreamFailed{make_error(ErrorCode::kResourceExhausted, "the server is shutting down")});
  }
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard lock(mutex_);
  SchedulerStats stats = stats_;
  stats.queued = static_cast<int>(queue_.size());
  return stats;
}

void Scheduler::worker_loop() {
  for (;;) {
    Pending pending;
    bool waited = false;
    {
      std::unique_lock lock(mutex_);
      work_.wait(lock, [&] { return shutting_down_ || !queue_.empty(); });
      if (shutting_down_) return;
      pending = std::move(queue_.front());
      queue_.pop_front();
      ++stats_.running;
      running_streams_.insert(pending.stream);
      waited = pending.queued;
    }
    run(pending, waited);
  }
}

void Scheduler::run(Pending& pending, bool waited) {
  StreamItem last = generate(pending, waited);
  const auto* finished = std::get_if<StreamFinished>(&last);
  if (shutting_down_ && finished != nullptr &&
      finished->finish_reason == FinishReason::kCancelled && !pending.stream->cancelled()) {
    last = StreamFailed{make_error(ErrorCode::kResourceExhausted,
                                   "the server is shutting down; the generation "
                                   "was stopped")};
  }
  {
    std::lock_guard lock(mutex_);
    --stats_.running;
    running_streams_.erase(pending.stream);
    if (const auto* finished = std::get_if<StreamFinished>(&last)) {
      if (finished->finish_reason == FinishReason::kCancelled) {
        ++stats_.cancelled;
      } else {
        ++stats_.completed;
      }
    } else {
      ++stats_.failed;
    }
  }
  pending.stream->finish(std::move(last));
}

StreamItem Scheduler::generate(Pending& pending, bool waited) {
  const GenerationJob& job = pending.job;
  GenerationStream& stream = *pending.stream;
  const SteadyTime started = std::chrono::steady_clock::now();
  if (stream.cancelled()) return StreamFinished{FinishReason::kCancelled};

  auto lease = runtime_.acquire(job.app, job.model);
  if (!lease) return StreamFailed{lease.error()};
  const SteadyTime loaded = std::chrono::steady_clock::now();

  int64_t planned_ctx = 0;
  std::optional<KvType> kv_type;
  for (const ModelStatus& status : runtime_.ps()) {
    if (status.name != lease->name()) continue;
    planned_ctx = status.n_ctx;
    if (auto type = kv_type_from_name(status.kv_type)) kv_type = *type;
  }
  const RuntimePolicy policy = runtime_.policy();
  SessionOptions session_options;
  session_options.n_ctx = job.n_ctx > 0 ? job.n_ctx : policy.context_for(0, planned_ctx);
  session_options.kv_type = kv_type;
  session_options.n_threads = std::max(1, options_.threads_per_sequence);
  const std::string model_name = lease->name();
  // Planned, charged to the app (refused past its budget), then allocated; it ends
  // session first, then its charge, then its lease.
  auto session = runtime_.open_app_session(job.app, std::move(*lease), session_options);
  if (!session) return StreamFailed{session.error()};

  const std::vector<int32_t> prompt =
      job.prompt_tokens.empty() ? (*session)->tokenize(job.prompt) : job.prompt_tokens;
  const int32_t n_vocab = session->session().model().tokenizer->n_vocab();
  for (int32_t token : prompt) {
    if (token < 0 || token >= n_vocab) {
      return StreamFailed{make_error(ErrorCode::kInvalidArgument,
                                     "prompt token {} is not in the model's vocabulary (0..{})",
                                     token, n_vocab - 1)};
    }
  }
  const auto n_prompt = static_cast<int64_t>(prompt.size());
  if (n_prompt == 0) {
    return StreamFailed{make_error(ErrorCode::kInvalidArgument, "the prompt is empty")};
  }
  if (n_prompt >= (*session)->n_ctx()) {
    return StreamFailed{make_error(ErrorCode::kOutOfRange,
                                   "the prompt has {} tokens but the context of model '{}' holds "
                                   "{}, leaving no room to generate; shorten the prompt",
                                   n_prompt, model_name, (*session)->n_ctx())};
  }

  GenerationOptions generation = job.generation;
  generation.max_tokens = policy.max_tokens_for(generation.max_tokens, waited);
  const StreamStarted start{n_prompt, (*session)->n_ctx(),
                            elapsed_seconds(pending.submitted, started),
                            elapsed_seconds(started, loaded)};
  if (!stream.push(start)) return StreamFinished{FinishReason::kCancelled};
  {
    std::lock_guard lock(mutex_);
    stats_.prompt_tokens += static_cast<uint64_t>(n_prompt);
  }

  const Tokenizer& tokenizer = *session->session().model().tokenizer;
  auto result = (*session)->generate(prompt, generation, [&](const TokenEvent& event) {
    if (shutting_down_) return false;
    StreamToken token{event.token, event.text};
    if (job.top_logprobs >= 0 && !event.logits.empty()) {
      token.sampled = TokenLogprob{event.token, tokenizer.token_to_piece(event.token),
                                   token_logprob(event.logits, event.token)};
      for (const auto& [id, logprob] : top_logprobs(event.logits, job.top_logprobs)) {
        token.top.push_back(TokenLogprob{id, tokenizer.token_to_piece(id), logprob});
      }
    }
    if (event.token >= 0) {
      std::lock_guard lock(mutex_);
      ++stats_.tokens_generated;
    }
    return stream.push(std::move(token));
  });
  if (!result) return StreamFailed{result.error()};
  return StreamFinished{result->finish_reason, result->n_prompt_tokens,
                        static_cast<int64_t>(result->tokens.size()), result->prompt_seconds,
                        result->generation_seconds};
}

}  // namespace locara
