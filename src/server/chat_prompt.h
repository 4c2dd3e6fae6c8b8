// Chat messages to prompt text: validates a request's messages and renders them with the
// model's chat template (tokenizer/chat), ChatML when the model has none.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/model_store.h"

namespace locara::server {

// The messages in the shape chat templates take: [{role, content: string}, ...], with
// OpenAI's content parts ([{type: "text", text}]) joined. Errors name the message and
// field ("'messages[1].role' must be a string"); an empty list is an error.
Expected<nlohmann::json> normalize_chat_messages(const nlohmann::json* messages);

struct ChatPrompt {
  std::string text;                // ends with the assistant's turn opened
  std::vector<std::string> stops;  // where the turn ends when no token marks it
};

// The prompt for `messages` (normalized). Templates are parsed once per template text.
// A template that refuses the conversation fails with its message (kInvalidArgument).
Expected<ChatPrompt> render_chat_prompt(const StoredModel& model, const nlohmann::json& messages);

}  // namespace locara::server
