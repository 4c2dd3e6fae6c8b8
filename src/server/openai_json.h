// OpenAI-compatible request parsing and response bodies: chat completions and legacy
// completions, streamed chunks, usage and log-probabilities.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/scheduler.h"
#include "server/api_error.h"
#include "server/completion.h"
#include "server/server_context.h"

namespace locara::server {

enum class OpenAiKind { kChat, kCompletion };

// A parsed request, ready for the scheduler.
struct OpenAiRequest {
  OpenAiKind kind = OpenAiKind::kChat;
  std::string id;  // "chatcmpl-..." / "cmpl-..."
  int64_t created = 0;
  ResolvedModel model;
  GenerationJob job;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;
};

// Reads and validates the body (its prompt or messages, sampling, limits); errors name
// the field. `tools` (request_tools(): the body's tools in the client's key order, or null)
// go to a chat request's template.
Expected<OpenAiRequest> parse_openai_request(ServerContext& context, const std::string& app,
                                             const nlohmann::json& body,
                                             const nlohmann::ordered_json& tools, OpenAiKind kind);

nlohmann::json openai_response(const OpenAiRequest& request, const CompletionDelta& all,
                               const CompletionSummary& summary);
// One streamed chunk: a text piece (role set on the first chat chunk), or the finish.
nlohmann::json openai_chunk(const OpenAiRequest& request, const CompletionDelta* delta,
                            const std::optional<std::string>& finish_reason, bool first);
nlohmann::json openai_usage(const CompletionSummary& summary);

}  // namespace locara::server
