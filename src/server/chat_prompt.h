// Chat messages to prompt text: validates a request's messages (and tools) and renders them
// with the model's chat template (tokenizer/chat), ChatML when the model has none.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/model_store.h"

namespace locara::server {

// The messages in the shape chat templates take: [{role, content: string}, ...], with
// OpenAI's content parts ([{type: "text", text}]) joined; a message's 'name', 'tool_calls'
// and 'tool_call_id' are kept (tool-calling templates print them). Errors name the message
// and field ("'messages[1].role' must be a string"); an empty list is an error.
Expected<nlohmann::json> normalize_chat_messages(const nlohmann::json* messages);

// The request's 'tools' with their keys in the order the client wrote them (templates
// print tool schemas as given, and the parsed `body` has its keys sorted; the raw body is
// parsed again only when it has tools). Null when absent or null; an error unless a list.
Expected<nlohmann::ordered_json> request_tools(const std::string& raw_body,
                                               const nlohmann::json& body);

struct ChatPrompt {
  std::string text;                // ends with the assistant's turn opened
  std::vector<std::string> stops;  // where the turn ends when no token marks it
};

// The prompt for `messages` (normalized), with `tools` (a list, or null for none) passed to
// the template as `tools`. Templates are parsed once per template text. A template that
// refuses the conversation fails with its message (kInvalidArgument).
Expected<ChatPrompt> render_chat_prompt(const StoredModel& model, const nlohmann::json& messages,
                                        const nlohmann::ordered_json& tools = nullptr);

// The prompt exactly as `locara chat-template render --model` prints it for `request` (an
// OpenAI-style object: messages, optional tools, documents, chat_template_kwargs): the
// model's template and BOS/EOS texts, the messages as given once they pass
// normalize_chat_messages' checks, nothing stripped. POST /apply-template serves it.
Expected<std::string> render_template_request(const StoredModel& model,
                                              const nlohmann::ordered_json& request,
                                              bool add_generation_prompt);

}  // namespace locara::server
