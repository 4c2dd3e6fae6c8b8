// `locara chat-template render`: renders a conversation with a model's chat template (or a
// template file) and prints the prompt exactly, as Hugging Face's apply_chat_template would.
#pragma once

#include <string>

#include "cli/command.h"

namespace locara::cli {

struct ChatTemplateOptions {
  std::string model_path;     // take tokenizer.chat_template (or ChatML) and bos/eos from it
  std::string template_path;  // or render this Jinja file
  // An array of messages, or an OpenAI-style request object with `messages` and optional
  // `tools`, `documents` and `chat_template_kwargs` (extra template variables); "-" is stdin.
  std::string messages_path;
  bool no_generation_prompt = false;
  std::string bos, eos;  // override the model's special tokens (default with --template: "")
  bool bos_given = false, eos_given = false;
  std::string date;  // YYYY-MM-DD for strftime_now (default: today, local time)
};

// Registers `chat-template` (with its `render` subcommand) on the app.
Command add_chat_template_command(CLI::App& app);
// Runs `chat-template render`; returns the process exit code.
int chat_template_render_command(const ChatTemplateOptions& options);

}  // namespace locara::cli
