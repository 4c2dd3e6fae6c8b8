// Ollama-compatible request parsing (options, keep_alive, prompt or messages) and response
// bodies: NDJSON pieces, the final line with durations, model details for tags/ps/show.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/model_store.h"
#include "runtime/scheduler.h"
#include "server/completion.h"
#include "server/server_context.h"

namespace locara::server {

enum class OllamaKind { kGenerate, kChat };

struct OllamaRequest {
  OllamaKind kind = OllamaKind::kGenerate;
  ResolvedModel model;
  std::string requested_name;  // as the client spelled it (echoed back)
  GenerationJob job;
  std::vector<std::string> stop;
  bool stream = true;
  bool load_only = false;  // /api/generate with no prompt: load (or, keep_alive 0, unload)
  std::optional<std::chrono::milliseconds> keep_alive;
};

// Reads and validates the body; errors name the field. `tools` (request_tools()) go to
// /api/chat's template.
Expected<OllamaRequest> parse_ollama_request(ServerContext& context, const std::string& app,
                                             const nlohmann::json& body,
                                             const nlohmann::ordered_json& tools, OllamaKind kind);

// One NDJSON piece, and the final object (done: true, durations in nanoseconds).
nlohmann::json ollama_piece(const OllamaRequest& request, const std::string& text);
nlohmann::json ollama_final(const OllamaRequest& request, const std::string& text,
                            const CompletionSummary& summary);
// The reply to a load-only (or unload) /api/generate.
nlohmann::json ollama_load_reply(const OllamaRequest& request, bool unloaded);

// "2024-05-01T12:00:00.123456Z"
std::string rfc3339(std::chrono::system_clock::time_point time);
nlohmann::json ollama_details(const StoredModel& model);
std::string model_digest(const StoredModel& model);
nlohmann::json ollama_tag(const StoredModel& model);
nlohmann::json ollama_show(const StoredModel& model);

}  // namespace locara::server
