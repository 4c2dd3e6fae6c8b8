#include "engine/session.h"

#include <algorithm>
#include <chrono>

#include "sampling/sampler.h"
#include "tokenizer/utf8_stream.h"

namespace locara {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kContextFull:
      return "context_full";
    case FinishReason::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

double GenerationResult::prompt_tokens_per_second() const {
  return prompt_seconds > 0 ? static_cast<double>(n_prompt_tokens) / prompt_seconds : 0.0;
}

double GenerationResult::generation_tokens_per_second() const {
  return generation_seconds > 0 ? static_cast<double>(tokens.size()) / generation_seconds : 0.0;
}

KvType default_kv_type(const ModelHParams& hparams) {
  return hparams.head_dim % 32 == 0 ? KvType::kQ8_0 : KvType::kF16;
}

Expected<std::unique_ptr<Session>> Session::create(std::shared_ptr<const LoadedModel> model,
                                                   const SessionOptions& options) {
  const ModelHParams& hp = model->model->hparams();
  // By default the training context, capped: a 128k-context model would otherwise
  // reserve gigabytes of KV cache for a short chat.
  const int64_t n_ctx =
      options.n_ctx > 0 ? options.n_ctx : std::min<int64_t>(hp.n_ctx_train, kDefaultMaxContext);
  if (n_ctx > (int64_t{1} << 24)) {
    return make_error(ErrorCode::kOutOfRange, "context size {} is too large", n_ctx);
  }
  if (options.n_threads < 1 || options.n_threads > 1024) {
    return make_error(ErrorCode::kOutOfRange, "thread count {} must be in 1..1024",
                      options.n_threads);
  }
  if (options.max_batch < 1) {
    return make_error(ErrorCode::kOutOfRange, "batch size {} must be positive", options.max_batch);
  }
  LOCARA_ASSIGN_OR_RETURN(KvCache cache, model->model->make_kv_cache(
                                             n_ctx, options.kv_type.value_or(default_kv_type(hp))));
  std::unique_ptr<Session> session(
      new Session(std::move(model), std::move(cache), options.n_threads));
  session->max_batch_ = options.max_batch;
  session->logits_.resize(static_cast<size_t>(hp.n_vocab));
  return session;
}

std::vector<int32_t> Session::tokenize(std::string_view text) const {
  return model_->tokenizer->encode(text, /*add_special=*/true, /*parse_special=*/true);
}

Status Session::decode(std::span<const int32_t> tokens, int64_t start, int64_t max_batch) {
  for (size_t done = 0; done < tokens.size();) {
    const size_t count = std::min(tokens.size() - done, static_cast<size_t>(max_batch));
    LOCARA_RETURN_IF_ERROR(model_->model->forward(tokens.subspan(done, count),
                                                  start + static_cast<int64_t>(done), cache_,
                                                  context_, logits_));
    done += count;
  }
  return ok_status();
}

Expected<GenerationResult> Session::generate(std::span<const int32_t> prompt,
                                             const GenerationOptions& options,
                                             const TokenCallback& on_token) {
  LOCARA_RETURN_IF_ERROR(options.sampling.validate());
  const Tokenizer& tokenizer = *model_->tokenizer;
  const auto n_prompt = static_cast<int64_t>(prompt.size());
  if (n_prompt == 0) {
    return make_error(ErrorCode::kInvalidArgument, "the prompt is empty (no tokens)");
  }
  if (n_prompt >= n_ctx()) {
    return make_error(ErrorCode::kResourceExhausted,
                      "the prompt has {} tokens but the context holds {} (leaving no room to "
                      "generate); use a shorter prompt or a larger context",
                      n_prompt, n_ctx());
  }

  SamplingParams sampling = options.sampling;
  if (options.ignore_eos) {
    for (int32_t id = 0; id < tokenizer.n_vocab(); ++id) {
      if (tokenizer.is_end_of_generation(id)) sampling.banned_tokens.push_back(id);
    }
  }
  LOCARA_ASSIGN_OR_RETURN(Sampler sampler, Sampler::create(sampling, tokenizer.n_vocab()));
  for (int32_t token : prompt) sampler.accept(token);

  GenerationResult result;
  result.n_prompt_tokens = n_prompt;
  const auto prompt_start = std::chrono::steady_clock::now();
  LOCARA_RETURN_IF_ERROR(decode(prompt, 0, max_batch_));
  result.prompt_seconds = seconds_since(prompt_start);

  Utf8StreamDecoder utf8;
  const int64_t limit = options.max_tokens < 0 ? n_ctx() : options.max_tokens;
  const auto generation_start = std::chrono::steady_clock::now();
  int64_t position = n_prompt;
  result.finish_reason = FinishReason::kLength;
  while (static_cast<int64_t>(result.tokens.size()) < limit) {
    const int32_t token = sampler.sample(logits_);
    if (token == Sampler::kNoToken) {
      return make_error(ErrorCode::kInternal,
                        "no token can be sampled: every candidate is banned or not finite");
    }
    if (!options.ignore_eos && tokenizer.is_end_of_generation(token)) {
      result.finish_reason = FinishReason::kStop;
      break;
    }
    sampler.accept(token);
    result.tokens.push_back(token);
    TokenEvent event{token, utf8.push(tokenizer.token_to_piece(token)), logits_};
    if (on_token && !on_token(event)) {
      result.finish_reason = FinishReason::kCancelled;
      break;
    }
    if (static_cast<int64_t>(result.tokens.size()) >= limit) break;
    if (position >= n_ctx()) {
      result.finish_reason = FinishReason::kContextFull;
      break;
    }
    const int32_t next[] = {token};
    LOCARA_RETURN_IF_ERROR(decode(next, position, 1));
    ++position;
  }
  result.generation_seconds = seconds_since(generation_start);
  if (std::string rest = utf8.flush(); !rest.empty() && on_token) {
    on_token(TokenEvent{-1, std::move(rest), {}});
  }
  return result;
}

}  // namespace locara
