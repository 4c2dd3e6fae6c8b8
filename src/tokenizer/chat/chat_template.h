// Chat templates: a model's tokenizer.chat_template (Jinja2) rendered exactly as Hugging Face
// transformers' apply_chat_template renders it, turning a conversation into the prompt text
// the model was trained on.
#pragma once

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace locara {

class GgufReader;

namespace jinja {
struct Program;
}

// What a template sees. JSON keeps its key order (templates print tool schemas as given),
// hence ordered_json.
struct ChatTemplateInput {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();  // [{role, content}, ...]
  nlohmann::ordered_json tools;      // a list of tool schemas; null: none (the template sees None)
  nlohmann::ordered_json documents;  // null: none
  bool add_generation_prompt = true;
  std::string bos_token;
  std::string eos_token;
  // What strftime_now() reports (Llama 3.2 prints today's date); empty: the local time.
  std::optional<std::tm> now;
  // Further template variables, as extra keyword arguments to apply_chat_template
  // (e.g. {"enable_thinking": false}); an object, or null for none.
  nlohmann::ordered_json extra_variables;
};

// A parsed template. Immutable; copies share the parse; render() is const and may run on
// several threads at once.
class ChatTemplate {
 public:
  // Parses with Jinja2's grammar and Hugging Face's settings (trim_blocks, lstrip_blocks,
  // loop controls). Syntax errors and unknown filters or tests fail here, naming line and
  // column.
  static Expected<ChatTemplate> parse(std::string_view source);

  // Renders the prompt. Fails with the template's own message when it refuses the input
  // (raise_exception: "System role not supported"), or with Jinja2's error (an undefined
  // variable used in arithmetic, iterating None ...), naming line and column.
  Expected<std::string> render(const ChatTemplateInput& input) const;

  const std::string& source() const;
  // True for kDefaultChatTemplate (the model had none).
  bool is_default() const { return is_default_; }

 private:
  explicit ChatTemplate(std::shared_ptr<const jinja::Program> program)
      : program_(std::move(program)) {}
  friend Expected<ChatTemplate> chat_template_for_model(const GgufReader& gguf);

  std::shared_ptr<const jinja::Program> program_;
  bool is_default_ = false;
};

// ChatML, the format transformers and llama.cpp fall back to when a model has no template:
// <|im_start|>role\ncontent<|im_end|>\n per message, then <|im_start|>assistant\n.
extern const std::string_view kDefaultChatTemplate;
// The text that ends a turn in kDefaultChatTemplate: generation should stop there even where
// the vocabulary has no such token.
inline constexpr std::string_view kDefaultEndOfTurn = "<|im_end|>";

// Reads a conversation the way `locara chat-template render` and the server's
// POST /apply-template take it: an array of messages, or an OpenAI-style request object
// with a 'messages' array and optional 'tools', 'documents' (both stay null, the template's
// None, when absent, as transformers passes them) and 'chat_template_kwargs' (an object,
// as extra variables). Other keys of the object are left to the caller. Errors name the
// field; the messages themselves are not checked.
Status read_chat_request(const nlohmann::ordered_json& request, ChatTemplateInput* input);

// The model's tokenizer.chat_template, or kDefaultChatTemplate when the file has none. Fails
// when the model's template does not parse (naming the key, line and column).
Expected<ChatTemplate> chat_template_for_model(const GgufReader& gguf);

}  // namespace locara
