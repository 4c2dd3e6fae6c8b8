#include "server/ollama_json.h"

#include <fmt/format.h>

#include <functional>

#include "server/chat_prompt.h"
#include "server/request_fields.h"

namespace locara::server {
namespace {

constexpr size_t kMaxStops = 16;

int64_t nanoseconds(double seconds) {
  return static_cast<int64_t>(seconds * 1e9);
}

// "260K", "1.2B": parameter counts as Ollama shows them.
std::string parameter_size(int64_t count) {
  const double n = static_cast<double>(count);
  if (n >= 1e9) return fmt::format("{:.1f}B", n / 1e9);
  if (n >= 1e6) return fmt::format("{:.1f}M", n / 1e6);
  if (n >= 1e3) return fmt::format("{:.0f}K", n / 1e3);
  return fmt::format("{}", count);
}

// Ollama's options; the ones about hardware (num_gpu, num_thread, ...) are the runtime's
// to choose and are ignored, as Ollama ignores options it does not know.
Status read_options(const nlohmann::json* options, OllamaRequest& request) {
  GenerationOptions& g = request.job.generation;
  SamplingParams& s = g.sampling;
  // Ollama's defaults.
  s.temperature = 0.8f;
  s.top_k = 40;
  s.top_p = 0.9f;
  s.min_p = 0.0f;
  s.repeat_penalty = 1.1f;
  s.repeat_last_n = 64;
  s.seed = SamplingParams::kRandomSeed;
  g.max_tokens = -1;
  if (options == nullptr) return ok_status();
  RequestFields f(*options, "options.");
  if (auto v = f.integer("num_ctx", 1, 1 << 24)) request.job.n_ctx = *v;
  if (auto v = f.integer("num_predict", -2, INT32_MAX)) g.max_tokens = *v < 0 ? -1 : *v;
  if (auto v = f.number("temperature", 0.0, 100.0)) s.temperature = static_cast<float>(*v);
  if (auto v = f.integer("top_k", 0, 1 << 20)) s.top_k = static_cast<int32_t>(*v);
  if (auto v = f.number("top_p", 0.0, 1.0)) s.top_p = *v > 0 ? static_cast<float>(*v) : 1.0f;
  if (auto v = f.number("min_p", 0.0, 1.0)) s.min_p = static_cast<float>(*v);
  if (auto v = f.number("repeat_penalty", 1e-3, 100.0)) s.repeat_penalty = static_cast<float>(*v);
  if (auto v = f.integer("repeat_last_n", -1, 1 << 24)) s.repeat_last_n = static_cast<int32_t>(*v);
  if (auto v = f.number("presence_penalty", -100.0, 100.0)) {
    s.presence_penalty = static_cast<float>(*v);
  }
  if (auto v = f.number("frequency_penalty", -100.0, 100.0)) {
    s.frequency_penalty = static_cast<float>(*v);
  }
  if (auto v = f.integer("seed", INT64_MIN, INT64_MAX)) {
    s.seed = *v < 0 ? SamplingParams::kRandomSeed : static_cast<uint64_t>(*v);
  }
  request.stop = f.strings("stop", kMaxStops);
  if (!f.ok()) return Error{ErrorCode::kInvalidArgument, f.problem()};
  return s.validate();
}

// /api/generate's prompt: as given when raw or the model has no template, otherwise as
// one user turn (after the system prompt) through the chat template.
Status read_generate_prompt(RequestFields& f, OllamaRequest& request) {
  const std::string prompt = f.string("prompt").value_or("");
  const std::optional<std::string> system = f.string("system");
  const bool raw = f.boolean("raw").value_or(false);
  if (!f.ok()) return Error{ErrorCode::kInvalidArgument, f.problem()};
  if (prompt.empty()) {
    request.load_only = true;
    return ok_status();
  }
  if (raw || request.model.stored.chat_template.empty()) {
    request.job.prompt = system ? *system + "\n\n" + prompt : prompt;
    return ok_status();
  }
  nlohmann::json messages = nlohmann::json::array();
  if (system) messages.push_back({{"role", "system"}, {"content", *system}});
  messages.push_back({{"role", "user"}, {"content", prompt}});
  LOCARA_ASSIGN_OR_RETURN(ChatPrompt chat, render_chat_prompt(request.model.stored, messages));
  request.job.prompt = std::move(chat.text);
  request.stop.insert(request.stop.end(), chat.stops.begin(), chat.stops.end());
  return ok_status();
}

nlohmann::json base_reply(const OllamaRequest& request) {
  return {{"model", request.requested_name},
          {"created_at", rfc3339(std::chrono::system_clock::now())}};
}

}  // namespace

Expected<OllamaRequest> parse_ollama_request(ServerContext& context, const std::string& app,
                                             const nlohmann::json& body,
                                             const nlohmann::ordered_json& tools, OllamaKind kind) {
  OllamaRequest request;
  request.kind = kind;
  RequestFields f(body);
  const std::optional<std::string> model = f.string("model");
  request.stream = f.boolean("stream").value_or(true);
  const nlohmann::json* options = f.object("options");
  if (const nlohmann::json* images = f.array("images"); images != nullptr && !images->empty()) {
    f.fail("images", "'images' is not supported: the models served here read text only");
  }
  if (!f.ok()) return Error{ErrorCode::kInvalidArgument, f.problem()};
  if (!model || model->empty())
    return make_error(ErrorCode::kInvalidArgument, "'model' is required");
  LOCARA_ASSIGN_OR_RETURN(request.keep_alive, parse_keep_alive(f.any("keep_alive")));
  LOCARA_RETURN_IF_ERROR(read_options(options, request));
  request.requested_name = *model;
  LOCARA_ASSIGN_OR_RETURN(request.model, context.resolve_model(app, *model));
  if (kind == OllamaKind::kChat) {
    LOCARA_ASSIGN_OR_RETURN(nlohmann::json messages, normalize_chat_messages(f.any("messages")));
    LOCARA_ASSIGN_OR_RETURN(ChatPrompt prompt,
                            render_chat_prompt(request.model.stored, messages, tools));
    request.job.prompt = std::move(prompt.text);
    request.stop.insert(request.stop.end(), prompt.stops.begin(), prompt.stops.end());
  } else {
    LOCARA_RETURN_IF_ERROR(read_generate_prompt(f, request));
  }
  request.job.app = app;
  request.job.model = request.model.name;
  return request;
}

nlohmann::json ollama_piece(const OllamaRequest& request, const std::string& text) {
  nlohmann::json piece = base_reply(request);
  if (request.kind == OllamaKind::kChat) {
    piece["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    piece["response"] = text;
  }
  piece["done"] = false;
  return piece;
}

nlohmann::json ollama_final(const OllamaRequest& request, const std::string& text,
                            const CompletionSummary& summary) {
  nlohmann::json reply = ollama_piece(request, text);
  reply["done"] = true;
  reply["done_reason"] = summary.finish_reason;
  reply["total_duration"] = nanoseconds(summary.total_seconds);
  reply["load_duration"] = nanoseconds(summary.load_seconds);
  reply["prompt_eval_count"] = summary.prompt_tokens;
  reply["prompt_eval_duration"] = nanoseconds(summary.prompt_seconds);
  reply["eval_count"] = summary.completion_tokens;
  reply["eval_duration"] = nanoseconds(summary.generation_seconds);
  return reply;
}

nlohmann::json ollama_load_reply(const OllamaRequest& request, bool unloaded) {
  nlohmann::json reply = ollama_piece(request, "");
  reply["done"] = true;
  reply["done_reason"] = unloaded ? "unload" : "load";
  return reply;
}

std::string rfc3339(std::chrono::system_clock::time_point time) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     micros % 1000000);
}

std::string model_digest(const StoredModel& model) {
  // Identifies this file version (name, size, time) without hashing gigabytes.
  std::string digest;
  for (uint64_t salt = 0; salt < 4; ++salt) {
    const std::string key =
        fmt::format("{}|{}|{}|{}", salt, model.name, model.file_bytes, model.modified_unix);
    digest += fmt::format("{:016x}", std::hash<std::string>{}(key));
  }
  return digest;
}

nlohmann::json ollama_details(const StoredModel& model) {
  std::string quant = model.quant_type;
  for (char& c : quant) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return {{"parent_model", ""},
          {"format", "gguf"},
          {"family", model.architecture},
          {"families", nlohmann::json::array({model.architecture})},
          {"parameter_size", parameter_size(model.parameter_count)},
          {"quantization_level", quant}};
}

nlohmann::json ollama_tag(const StoredModel& model) {
  return {
      {"name", model.name},
      {"model", model.name},
      {"modified_at",
       rfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(model.modified_unix)))},
      {"size", model.file_bytes},
      {"digest", model_digest(model)},
      {"details", ollama_details(model)}};
}

nlohmann::json ollama_show(const StoredModel& model) {
  return {
      {"license", ""},
      {"modelfile", fmt::format("# Modelfile generated by locara\nFROM {}\n", model.path)},
      {"parameters", ""},
      {"template", model.chat_template},
      {"details", ollama_details(model)},
      {"model_info",
       {{"general.architecture", model.architecture},
        {"general.parameter_count", model.parameter_count},
        {model.architecture + ".context_length", model.context_length}}},
      {"capabilities", nlohmann::json::array({"completion"})},
      {"modified_at",
       rfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(model.modified_unix)))}};
}

}  // namespace locara::server
