#include "tokenizer/chat/chat_template.h"

#include <new>
#include <stdexcept>

#include "gguf/gguf_reader.h"
#include "tokenizer/chat/jinja_globals.h"
#include "tokenizer/chat/jinja_interpreter.h"
#include "tokenizer/chat/jinja_json.h"
#include "tokenizer/chat/jinja_parser.h"

namespace locara {

namespace jinja {
struct Program {
  std::string source;
  Body body;
};
}  // namespace jinja

const std::string_view kDefaultChatTemplate =
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

namespace {

// Everything parsing and rendering allocate goes through here, so that an allocation failure (past
// the interpreter's own size limits) becomes an error rather than an exception.
template <typename Function>
auto without_exceptions(Function&& function) -> decltype(function()) {
  try {
    return function();
  } catch (const std::bad_alloc&) {
    return Error{ErrorCode::kResourceExhausted, "chat template: out of memory"};
  } catch (const std::length_error&) {
    return Error{ErrorCode::kResourceExhausted, "chat template: text too long"};
  }
}

Error chat_template_error(const Error& error) {
  return Error{error.code, "chat template: " + error.message};
}

}  // namespace

Expected<ChatTemplate> ChatTemplate::parse(std::string_view source) {
  auto body = without_exceptions([&] { return jinja::parse_template(source); });
  if (!body) return chat_template_error(body.error());
  auto program = std::make_shared<jinja::Program>();
  program->source = std::string(source);
  program->body = std::move(*body);
  return ChatTemplate(std::move(program));
}

const std::string& ChatTemplate::source() const {
  return program_->source;
}

namespace {

Expected<std::string> render_program(const jinja::Program& program,
                                     const ChatTemplateInput& input) {
  if (!input.extra_variables.is_null() && !input.extra_variables.is_object())
    return Error{ErrorCode::kInvalidArgument,
                 "chat template: extra_variables must be a JSON object"};
  auto globals = std::make_shared<jinja::Frame>();
  jinja::add_builtin_globals(globals.get(), input.now);
  // Variables passed to the render shadow the built-in functions, as in Jinja2.
  const auto set_json = [&](std::string_view name, const nlohmann::ordered_json& json) -> Status {
    auto value = jinja::from_json(json);
    if (!value)
      return make_error(value.error().code, "chat template: {}: {}", name, value.error().message);
    globals->set(name, std::move(*value));
    return ok_status();
  };
  for (const auto& [name, value] : input.extra_variables.items())
    LOCARA_RETURN_IF_ERROR(set_json(name, value));
  LOCARA_RETURN_IF_ERROR(set_json("messages", input.messages));
  LOCARA_RETURN_IF_ERROR(set_json("tools", input.tools));
  LOCARA_RETURN_IF_ERROR(set_json("documents", input.documents));
  globals->set("add_generation_prompt", jinja::Value::boolean(input.add_generation_prompt));
  globals->set("bos_token", jinja::Value::string(input.bos_token));
  globals->set("eos_token", jinja::Value::string(input.eos_token));
  jinja::Interpreter interpreter;
  auto text = interpreter.render(program.body, std::move(globals));
  if (!text) return chat_template_error(text.error());
  return text;
}

}  // namespace

Expected<std::string> ChatTemplate::render(const ChatTemplateInput& input) const {
  return without_exceptions([&] { return render_program(*program_, input); });
}

Status read_chat_request(const nlohmann::ordered_json& request, ChatTemplateInput* input) {
  if (request.is_array()) {
    input->messages = request;
    return ok_status();
  }
  if (!request.is_object() || !request.contains("messages") || !request["messages"].is_array())
    return make_error(ErrorCode::kInvalidArgument,
                      "expected an array of messages or an object with a 'messages' array");
  input->messages = request["messages"];
  if (auto tools = request.find("tools"); tools != request.end()) input->tools = *tools;
  if (auto documents = request.find("documents"); documents != request.end())
    input->documents = *documents;
  if (auto kwargs = request.find("chat_template_kwargs"); kwargs != request.end()) {
    if (!kwargs->is_object() && !kwargs->is_null())
      return make_error(ErrorCode::kInvalidArgument, "'chat_template_kwargs' must be an object");
    input->extra_variables = *kwargs;
  }
  return ok_status();
}

Expected<ChatTemplate> chat_template_for_model(const GgufReader& gguf) {
  constexpr std::string_view kKey = "tokenizer.chat_template";
  if (!gguf.find(kKey)) {
    LOCARA_ASSIGN_OR_RETURN(ChatTemplate fallback, ChatTemplate::parse(kDefaultChatTemplate));
    fallback.is_default_ = true;
    return fallback;
  }
  LOCARA_ASSIGN_OR_RETURN(std::string source, gguf.get_string(kKey));
  auto parsed = ChatTemplate::parse(source);
  if (!parsed)
    return Error{parsed.error().code,
                 fmt::format("{}: {}: {}", gguf.path(), kKey, parsed.error().message)};
  return parsed;
}

}  // namespace locara
