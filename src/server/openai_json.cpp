#include "server/openai_json.h"

#include <chrono>

#include "server/app_registry.h"
#include "server/chat_prompt.h"
#include "server/request_fields.h"

namespace locara::server {
namespace {

constexpr size_t kMaxStops = 4;  // as OpenAI allows
constexpr int kMaxTopLogprobsChat = 20;
constexpr int kMaxTopLogprobsCompletion = 5;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error field_error(const RequestFields& fields) {
  return Error{ErrorCode::kInvalidArgument, fields.problem()};
}

// /v1/completions' prompt: a string, or a list holding one string or token ids.
Status read_completion_prompt(const nlohmann::json* prompt, GenerationJob& job) {
  if (prompt == nullptr) return make_error(ErrorCode::kInvalidArgument, "'prompt' is required");
  if (prompt->is_string()) {
    job.prompt = prompt->get<std::string>();
    return ok_status();
  }
  if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
    job.prompt = (*prompt)[0].get<std::string>();
    return ok_status();
  }
  if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number_integer()) {
    for (const nlohmann::json& token : *prompt) {
      if (!token.is_number_integer()) {
        return make_error(ErrorCode::kInvalidArgument,
                          "'prompt' mixes token ids with {}; send only integers",
                          json_type_words(token));
      }
      job.prompt_tokens.push_back(token.get<int32_t>());
    }
    return ok_status();
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "'prompt' must be a string, a list of one string, or a list of token ids");
}

Status read_sampling(RequestFields& f, OpenAiKind kind, OpenAiRequest& request) {
  SamplingParams& s = request.job.generation.sampling;
  // OpenAI's defaults: temperature 1, nucleus off; llama-style filters off unless asked.
  s.temperature = static_cast<float>(f.number("temperature", 0.0, 2.0).value_or(1.0));
  s.top_p = static_cast<float>(f.number("top_p", 1e-6, 1.0).value_or(1.0));
  s.top_k = static_cast<int32_t>(f.integer("top_k", 0, 1 << 20).value_or(0));
  s.min_p = static_cast<float>(f.number("min_p", 0.0, 1.0).value_or(0.0));
  s.repeat_penalty = static_cast<float>(f.number("repeat_penalty", 1e-3, 10.0).value_or(1.0));
  s.presence_penalty = static_cast<float>(f.number("presence_penalty", -2.0, 2.0).value_or(0.0));
  s.frequency_penalty = static_cast<float>(f.number("frequency_penalty", -2.0, 2.0).value_or(0.0));
  const auto seed = f.integer("seed", INT64_MIN, INT64_MAX);
  s.seed = seed ? static_cast<uint64_t>(*seed) : SamplingParams::kRandomSeed;

  const auto max_tokens = f.integer("max_tokens", 1, INT32_MAX);
  const auto max_completion_tokens = f.integer("max_completion_tokens", 1, INT32_MAX);
  const int64_t default_max = kind == OpenAiKind::kChat ? -1 : 16;  // legacy default: 16
  request.job.generation.max_tokens =
      static_cast<int32_t>(max_completion_tokens.value_or(max_tokens.value_or(default_max)));
  if (f.integer("n", 1, 128).value_or(1) != 1) f.fail("n", "only 'n': 1 is supported");
  request.stop = f.strings("stop", kMaxStops);

  if (kind == OpenAiKind::kChat) {
    request.logprobs = f.boolean("logprobs").value_or(false);
    const auto top = f.integer("top_logprobs", 0, kMaxTopLogprobsChat);
    if (top && !request.logprobs) f.fail("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    if (request.logprobs) request.job.top_logprobs = static_cast<int>(top.value_or(0));
  } else if (const auto top = f.integer("logprobs", 0, kMaxTopLogprobsCompletion)) {
    request.logprobs = true;
    request.job.top_logprobs = static_cast<int>(*top);
  }
  if (f.boolean("echo").value_or(false)) f.fail("echo", "'echo' is not supported");
  if (!f.ok()) return field_error(f);
  return s.validate();
}

nlohmann::json bytes_of(const std::string& text) {
  nlohmann::json bytes = nlohmann::json::array();
  for (unsigned char c : text) bytes.push_back(static_cast<int>(c));
  return bytes;
}

nlohmann::json chat_logprobs(const std::vector<StreamToken>& tokens) {
  nlohmann::json content = nlohmann::json::array();
  for (const StreamToken& token : tokens) {
    if (!token.sampled) continue;
    nlohmann::json top = nlohmann::json::array();
    for (const TokenLogprob& alternative : token.top) {
      top.push_back({{"token", alternative.piece},
                     {"logprob", alternative.logprob},
                     {"bytes", bytes_of(alternative.piece)}});
    }
    content.push_back({{"token", token.sampled->piece},
                       {"logprob", token.sampled->logprob},
                       {"bytes", bytes_of(token.sampled->piece)},
                       {"top_logprobs", std::move(top)}});
  }
  return {{"content", std::move(content)}};
}

nlohmann::json completion_logprobs(const std::vector<StreamToken>& tokens) {
  nlohmann::json pieces = nlohmann::json::array(), logprobs = nlohmann::json::array();
  nlohmann::json top = nlohmann::json::array(), offsets = nlohmann::json::array();
  size_t offset = 0;
  for (const StreamToken& token : tokens) {
    if (!token.sampled) continue;
    pieces.push_back(token.sampled->piece);
    logprobs.push_back(token.sampled->logprob);
    nlohmann::json alternatives = nlohmann::json::object();
    for (const TokenLogprob& alternative : token.top) {
      alternatives[alternative.piece] = alternative.logprob;
    }
    top.push_back(std::move(alternatives));
    offsets.push_back(offset);
    offset += token.sampled->piece.size();
  }
  return {{"tokens", pieces},
          {"token_logprobs", logprobs},
          {"top_logprobs", top},
          {"text_offset", offsets}};
}

nlohmann::json logprobs_json(const OpenAiRequest& request, const std::vector<StreamToken>& tokens) {
  if (!request.logprobs) return nullptr;
  return request.kind == OpenAiKind::kChat ? chat_logprobs(tokens) : completion_logprobs(tokens);
}

}  // namespace

Expected<OpenAiRequest> parse_openai_request(ServerContext& context, const std::string& app,
                                             const nlohmann::json& body,
                                             const nlohmann::ordered_json& tools, OpenAiKind kind) {
  OpenAiRequest request;
  request.kind = kind;
  request.created = unix_now();
  request.id = (kind == OpenAiKind::kChat ? "chatcmpl-" : "cmpl-") + random_hex(24);
  RequestFields f(body);
  const std::optional<std::string> model = f.string("model");
  request.stream = f.boolean("stream").value_or(false);
  if (const nlohmann::json* options = f.object("stream_options")) {
    RequestFields o(*options, "stream_options.");
    request.include_usage = o.boolean("include_usage").value_or(false);
    if (!o.ok()) return Error{ErrorCode::kInvalidArgument, o.problem()};
  }
  if (!f.ok()) return field_error(f);
  if (!model) return make_error(ErrorCode::kInvalidArgument, "'model' is required");
  LOCARA_RETURN_IF_ERROR(read_sampling(f, kind, request));
  LOCARA_ASSIGN_OR_RETURN(request.model, context.resolve_model(app, *model));
  if (kind == OpenAiKind::kChat) {
    LOCARA_ASSIGN_OR_RETURN(nlohmann::json messages, normalize_chat_messages(f.any("messages")));
    LOCARA_ASSIGN_OR_RETURN(ChatPrompt prompt,
                            render_chat_prompt(request.model.stored, messages, tools));
    request.job.prompt = std::move(prompt.text);
    request.stop.insert(request.stop.end(), prompt.stops.begin(), prompt.stops.end());
  } else {
    LOCARA_RETURN_IF_ERROR(read_completion_prompt(f.any("prompt"), request.job));
  }
  request.job.app = app;
  request.job.model = request.model.name;
  return request;
}

nlohmann::json openai_usage(const CompletionSummary& summary) {
  return {{"prompt_tokens", summary.prompt_tokens},
          {"completion_tokens", summary.completion_tokens},
          {"total_tokens", summary.prompt_tokens + summary.completion_tokens}};
}

nlohmann::json openai_response(const OpenAiRequest& request, const CompletionDelta& all,
                               const CompletionSummary& summary) {
  nlohmann::json choice = {{"index", 0},
                           {"logprobs", logprobs_json(request, all.tokens)},
                           {"finish_reason", summary.finish_reason}};
  if (request.kind == OpenAiKind::kChat) {
    choice["message"] = {{"role", "assistant"}, {"content", all.text}};
  } else {
    choice["text"] = all.text;
  }
  return {{"id", request.id},
          {"object", request.kind == OpenAiKind::kChat ? "chat.completion" : "text_completion"},
          {"created", request.created},
          {"model", request.model.name},
          {"system_fingerprint", "locara"},
          {"choices", nlohmann::json::array({std::move(choice)})},
          {"usage", openai_usage(summary)}};
}

nlohmann::json openai_chunk(const OpenAiRequest& request, const CompletionDelta* delta,
                            const std::optional<std::string>& finish_reason, bool first) {
  nlohmann::json choice = {
      {"index", 0},
      {"logprobs", delta != nullptr ? logprobs_json(request, delta->tokens) : nullptr},
      {"finish_reason", finish_reason ? nlohmann::json(*finish_reason) : nlohmann::json()}};
  const std::string text = delta != nullptr ? delta->text : "";
  if (request.kind == OpenAiKind::kChat) {
    nlohmann::json message = nlohmann::json::object();
    if (first) message["role"] = "assistant";
    if (delta != nullptr) message["content"] = text;
    choice["delta"] = std::move(message);
  } else {
    choice["text"] = text;
  }
  nlohmann::json chunk = {
      {"id", request.id},
      {"object", request.kind == OpenAiKind::kChat ? "chat.completion.chunk" : "text_completion"},
      {"created", request.created},
      {"model", request.model.name},
      {"system_fingerprint", "locara"},
      {"choices", nlohmann::json::array({std::move(choice)})}};
  if (request.include_usage) chunk["usage"] = nullptr;
  return chunk;
}

}  // namespace locara::server
