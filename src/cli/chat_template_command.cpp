#include "cli/chat_template_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "gguf/gguf_reader.h"
#include "tokenizer/chat/chat_template.h"
#include "tokenizer/vocab.h"

namespace locara::cli {
namespace {

Expected<std::string> read_text(const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kNotFound, "cannot open '{}'", path);
  text << in.rdbuf();
  return text.str();
}

// Fills messages, tools, documents and extra variables from an array of messages or an
// OpenAI-style request object.
Status read_conversation(const std::string& path, ChatTemplateInput* input) {
  LOCARA_ASSIGN_OR_RETURN(std::string text, read_text(path));
  auto json = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded())
    return make_error(ErrorCode::kInvalidArgument, "{}: not valid JSON", path);
  if (Status read = read_chat_request(json, input); !read)
    return Error{read.error().code, fmt::format("{}: {}", path, read.error().message)};
  return ok_status();
}

Expected<std::tm> parse_date(const std::string& date) {
  std::tm tm{};
  int year = 0, month = 0, day = 0;
  char tail = 0;
  if (std::sscanf(date.c_str(), "%d-%d-%d%c", &year, &month, &day, &tail) != 3 || month < 1 ||
      month > 12 || day < 1 || day > 31)
    return make_error(ErrorCode::kInvalidArgument, "--date '{}': expected YYYY-MM-DD", date);
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = 12;
  std::tm normalized = tm;
  timegm(&normalized);  // fills the weekday and day of the year
  tm.tm_wday = normalized.tm_wday;
  tm.tm_yday = normalized.tm_yday;
  return tm;
}

Expected<std::string> render(const ChatTemplateOptions& o) {
  ChatTemplateInput input;
  input.add_generation_prompt = !o.no_generation_prompt;
  LOCARA_RETURN_IF_ERROR(read_conversation(o.messages_path, &input));
  if (!o.date.empty()) {
    LOCARA_ASSIGN_OR_RETURN(input.now, parse_date(o.date));
  }
  std::optional<ChatTemplate> chat;
  if (!o.model_path.empty()) {
    LOCARA_ASSIGN_OR_RETURN(auto gguf, GgufReader::open(o.model_path));
    LOCARA_ASSIGN_OR_RETURN(chat, chat_template_for_model(*gguf));
    if (!o.bos_given || !o.eos_given) {  // the model's own special tokens, as HF passes them
      LOCARA_ASSIGN_OR_RETURN(Vocab vocab, Vocab::from_gguf(*gguf));
      if (vocab.contains(vocab.bos())) input.bos_token = vocab.text(vocab.bos());
      if (vocab.contains(vocab.eos())) input.eos_token = vocab.text(vocab.eos());
    }
  } else {
    LOCARA_ASSIGN_OR_RETURN(std::string source, read_text(o.template_path));
    auto parsed = ChatTemplate::parse(source);
    if (!parsed)
      return Error{parsed.error().code,
                   fmt::format("{}: {}", o.template_path, parsed.error().message)};
    chat = std::move(*parsed);
  }
  if (o.bos_given) input.bos_token = o.bos;
  if (o.eos_given) input.eos_token = o.eos;
  return chat->render(input);
}

}  // namespace

Command add_chat_template_command(CLI::App& app) {
  auto options = std::make_shared<ChatTemplateOptions>();
  ChatTemplateOptions& o = *options;
  CLI::App* chat = app.add_subcommand("chat-template", "Work with chat templates");
  chat->require_subcommand(1);
  CLI::App* render_cmd = chat->add_subcommand(
      "render",
      "Print the prompt a chat template makes of a conversation (as Hugging Face's "
      "apply_chat_template renders it)");
  auto* model = render_cmd->add_option("--model", o.model_path,
                                       "GGUF model: its tokenizer.chat_template (ChatML if none) "
                                       "and its bos/eos tokens");
  auto* file = render_cmd->add_option("--template", o.template_path, "A Jinja template file");
  model->excludes(file);
  render_cmd
      ->add_option("--messages", o.messages_path,
                   "JSON file ('-': stdin): an array of messages, or an object with 'messages' "
                   "and optional 'tools', 'documents', 'chat_template_kwargs'")
      ->required();
  render_cmd->add_flag("--no-generation-prompt", o.no_generation_prompt,
                       "Do not open an assistant turn at the end");
  render_cmd->add_option("--bos", o.bos, "bos_token text (default: the model's, or empty)")
      ->each([&o](const std::string&) { o.bos_given = true; });
  render_cmd->add_option("--eos", o.eos, "eos_token text (default: the model's, or empty)")
      ->each([&o](const std::string&) { o.eos_given = true; });
  render_cmd->add_option("--date", o.date,
                         "Date strftime_now reports, YYYY-MM-DD (default: today)");
  return {chat, [options] { return chat_template_render_command(*options); }};
}

int chat_template_render_command(const ChatTemplateOptions& options) {
  if (options.model_path.empty() == options.template_path.empty()) {
    fmt::print(stderr, "error: chat-template render needs --model or --template\n");
    return 1;
  }
  auto prompt = render(options);
  if (!prompt) {
    fmt::print(stderr, "error: {}\n", prompt.error().message);
    return 1;
  }
  std::fwrite(prompt->data(), 1, prompt->size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace locara::cli
