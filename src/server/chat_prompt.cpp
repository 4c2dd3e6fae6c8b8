#include "server/chat_prompt.h"

#include <fmt/format.h>

#include <array>
#include <map>
#include <mutex>
#include <string_view>

#include "server/request_fields.h"
#include "tokenizer/chat/chat_template.h"

namespace locara::server {
namespace {

constexpr std::array<std::string_view, 5> kRoles = {"system", "developer", "user", "assistant",
                                                    "tool"};

// Content as a string, or OpenAI's list of parts of which the text ones count.
Expected<std::string> message_text(const nlohmann::json& content, size_t index) {
  if (content.is_null()) return std::string();
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "'messages[{}].content' must be a string or a list of parts, got {}", index,
                      json_type_words(content));
  }
  std::string text;
  for (size_t part = 0; part < content.size(); ++part) {
    const nlohmann::json& item = content[part];
    if (!item.is_object() || !item.contains("type") || !item["type"].is_string()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "'messages[{}].content[{}]' must be an object with a string 'type'", index,
                        part);
    }
    if (item["type"] != "text") {
      return make_error(ErrorCode::kUnsupported,
                        "'messages[{}].content[{}]' has type '{}'; only text parts are supported",
                        index, part, item["type"].get<std::string>());
    }
    if (!item.contains("text") || !item["text"].is_string()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "'messages[{}].content[{}].text' must be a string", index, part);
    }
    text += item["text"].get<std::string>();
  }
  return text;
}

// Parsed templates by source text: parsing is the costly part, rendering is const.
Expected<ChatTemplate> template_for(const std::string& source) {
  static std::mutex mutex;
  static std::map<std::string, ChatTemplate> parsed;
  std::lock_guard lock(mutex);
  auto it = parsed.find(source);
  if (it != parsed.end()) return it->second;
  auto chat_template = ChatTemplate::parse(source.empty() ? kDefaultChatTemplate : source);
  if (!chat_template) {
    return make_error(ErrorCode::kUnsupported, "the model's chat template does not parse: {}",
                      chat_template.error().message);
  }
  parsed.emplace(source, *chat_template);
  return *chat_template;
}

// Renders with the model's template and its BOS/EOS texts.
Expected<std::string> render_for_model(const StoredModel& model, ChatTemplateInput& input) {
  LOCARA_ASSIGN_OR_RETURN(ChatTemplate chat_template, template_for(model.chat_template));
  input.bos_token = model.bos_token;
  input.eos_token = model.eos_token;
  auto rendered = chat_template.render(input);
  if (!rendered) {
    return make_error(ErrorCode::kInvalidArgument, "model '{}' chat template: {}", model.name,
                      rendered.error().message);
  }
  return std::move(*rendered);
}

}  // namespace

Expected<nlohmann::json> normalize_chat_messages(const nlohmann::json* messages) {
  if (messages == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "'messages' is required");
  }
  if (!messages->is_array()) {
    return make_error(ErrorCode::kInvalidArgument, "'messages' must be an array, got {}",
                      json_type_words(*messages));
  }
  if (messages->empty()) {
    return make_error(ErrorCode::kInvalidArgument, "'messages' is empty; send at least one");
  }
  nlohmann::json normalized = nlohmann::json::array();
  for (size_t i = 0; i < messages->size(); ++i) {
    const nlohmann::json& message = (*messages)[i];
    if (!message.is_object()) {
      return make_error(ErrorCode::kInvalidArgument, "'messages[{}]' must be an object, got {}", i,
                        json_type_words(message));
    }
    auto role = message.find("role");
    if (role == message.end() || !role->is_string()) {
      return make_error(ErrorCode::kInvalidArgument, "'messages[{}].role' must be a string", i);
    }
    const std::string role_name = role->get<std::string>();
    if (std::find(kRoles.begin(), kRoles.end(), role_name) == kRoles.end()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "'messages[{}].role' is '{}'; use system, developer, user, assistant or "
                        "tool",
                        i, role_name);
    }
    auto content = message.find("content");
    LOCARA_ASSIGN_OR_RETURN(
        std::string text, message_text(content == message.end() ? nlohmann::json() : *content, i));
    nlohmann::json entry = {{"role", role_name == "developer" ? "system" : role_name},
                            {"content", std::move(text)}};
    for (const char* kept : {"name", "tool_calls", "tool_call_id"}) {
      if (auto field = message.find(kept); field != message.end() && !field->is_null()) {
        entry[kept] = *field;
      }
    }
    normalized.push_back(std::move(entry));
  }
  return normalized;
}

Expected<nlohmann::ordered_json> request_tools(const std::string& raw_body,
                                               const nlohmann::json& body) {
  auto tools = body.find("tools");
  if (tools == body.end() || tools->is_null()) return nlohmann::ordered_json();
  if (!tools->is_array()) {
    return make_error(ErrorCode::kInvalidArgument, "'tools' must be an array, got {}",
                      json_type_words(*tools));
  }
  // The body parsed once already, so this cannot fail.
  auto ordered = nlohmann::ordered_json::parse(raw_body, nullptr, /*allow_exceptions=*/false);
  if (ordered.is_discarded() || !ordered.contains("tools")) {
    return nlohmann::ordered_json::parse(tools->dump());
  }
  return ordered["tools"];
}

Expected<ChatPrompt> render_chat_prompt(const StoredModel& model, const nlohmann::json& messages,
                                        const nlohmann::ordered_json& tools) {
  ChatTemplateInput input;
  input.messages = nlohmann::ordered_json::parse(messages.dump());
  input.tools = tools;
  LOCARA_ASSIGN_OR_RETURN(std::string rendered, render_for_model(model, input));
  ChatPrompt prompt{std::move(rendered), {}};
  // Tokenizing the prompt adds BOS already; a template's own BOS would double it.
  if (model.adds_bos && !model.bos_token.empty() && prompt.text.starts_with(model.bos_token)) {
    prompt.text.erase(0, model.bos_token.size());
  }
  if (model.chat_template.empty()) prompt.stops.emplace_back(kDefaultEndOfTurn);
  return prompt;
}

Expected<std::string> render_template_request(const StoredModel& model,
                                              const nlohmann::ordered_json& request,
                                              bool add_generation_prompt) {
  // The chat endpoints' checks first, so that a malformed conversation is named as they name it.
  const auto messages = request.find("messages");
  const nlohmann::json checked =
      messages == request.end() ? nlohmann::json() : nlohmann::json::parse(messages->dump());
  LOCARA_RETURN_IF_ERROR(normalize_chat_messages(messages == request.end() ? nullptr : &checked));
  ChatTemplateInput input;
  input.add_generation_prompt = add_generation_prompt;
  LOCARA_RETURN_IF_ERROR(read_chat_request(request, &input));
  if (!input.tools.is_null() && !input.tools.is_array()) {
    return make_error(ErrorCode::kInvalidArgument, "'tools' must be an array, got {}",
                      json_type_words(nlohmann::json::parse(input.tools.dump())));
  }
  return render_for_model(model, input);
}

}  // namespace locara::server
