#include "cli/chat_loop.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <csignal>
#include <cstdio>

#include "cli/line_reader.h"
#include "tokenizer/chat/chat_template.h"

namespace locara::cli {
namespace {

volatile std::sig_atomic_t g_stop_answer = 0;
void on_interrupt(int) {
  g_stop_answer = 1;
}

// Installs the Ctrl-C handler for the lifetime of one answer; without SA_RESTART, so a
// blocking write returns and the answer stops promptly.
class InterruptScope {
 public:
  InterruptScope() {
    g_stop_answer = 0;
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_);
  }
  ~InterruptScope() { sigaction(SIGINT, &previous_, nullptr); }

 private:
  struct sigaction previous_ {};
};

void write_out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// Streams an answer to stdout, stopping at `stop_text` (which is never printed): text that
// could be the start of it is held back until it is known not to be.
class AnswerPrinter {
 public:
  explicit AnswerPrinter(std::string_view stop_text) : stop_text_(stop_text) {}

  // Returns false once the stop text has appeared.
  bool add(std::string_view piece) {
    text_ += piece;
    size_t safe_end = text_.size();
    if (!stop_text_.empty()) {
      if (const size_t at = text_.find(stop_text_); at != std::string::npos) {
        text_.resize(at);
        flush();
        return false;
      }
      for (size_t keep = std::min(stop_text_.size() - 1, text_.size()); keep > 0; --keep) {
        if (text_.compare(text_.size() - keep, keep, stop_text_, 0, keep) == 0) {
          safe_end = text_.size() - keep;
          break;
        }
      }
    }
    write_out(std::string_view(text_).substr(printed_, safe_end - printed_));
    printed_ = safe_end;
    return true;
  }
  void flush() {
    write_out(std::string_view(text_).substr(printed_));
    printed_ = text_.size();
  }
  const std::string& text() const { return text_; }

 private:
  std::string_view stop_text_;
  std::string text_;
  size_t printed_ = 0;
};

}  // namespace

int run_chat_loop(Session& session, const ChatLoopOptions& options) {
  const LoadedModel& model = session.model();
  auto chat = chat_template_for_model(model.model->gguf());
  if (!chat) {
    fmt::print(stderr, "locara: error: {}\n", chat.error().message);
    return 1;
  }
  const Vocab& vocab = model.tokenizer->vocab();
  ChatTemplateInput input;
  if (vocab.contains(vocab.bos())) input.bos_token = vocab.text(vocab.bos());
  if (vocab.contains(vocab.eos())) input.eos_token = vocab.text(vocab.eos());
  input.messages = nlohmann::ordered_json::array();
  if (!options.system_prompt.empty())
    input.messages.push_back({{"role", "system"}, {"content", options.system_prompt}});
  // ChatML's end of turn may be plain text to a model that was not trained on it.
  const std::string_view stop_text = chat->is_default() ? kDefaultEndOfTurn : "";

  LineReader reader;
  if (reader.interactive())
    fmt::print(stderr, "Chat with {} ({}). Ctrl-C stops an answer, Ctrl-D exits.\n",
               model.model->gguf().path(),
               chat->is_default() ? "no chat template in the model: ChatML" : "its chat template");
  bool first = true;
  while (true) {
    std::optional<std::string> line;
    if (first && !options.first_message.empty()) {
      line = options.first_message;
    } else {
      line = reader.read("> ");
    }
    first = false;
    if (!line) break;  // end of input
    if (line->empty()) continue;
    input.messages.push_back({{"role", "user"}, {"content", *line}});

    auto prompt = chat->render(input);
    if (!prompt) {
      fmt::print(stderr, "locara: error: {}\n", prompt.error().message);
      input.messages.erase(input.messages.end() - 1);
      continue;
    }
    // The tokenizer adds BOS itself; a template that also writes it would double it.
    std::string_view text = *prompt;
    if (vocab.add_bos() && !input.bos_token.empty() && text.starts_with(input.bos_token))
      text.remove_prefix(input.bos_token.size());
    const std::vector<int32_t> tokens = session.tokenize(text);

    AnswerPrinter printer(stop_text);
    Expected<GenerationResult> result = make_error(ErrorCode::kInternal, "not run");
    {
      InterruptScope interrupt;
      result = session.generate(tokens, options.generation, [&](const TokenEvent& event) {
        return printer.add(event.text) && g_stop_answer == 0;
      });
    }
    printer.flush();
    write_out("\n");
    if (!result) {
      fmt::print(stderr, "locara: error: {}\n", result.error().message);
      input.messages.erase(input.messages.end() - 1);
      continue;
    }
    input.messages.push_back({{"role", "assistant"}, {"content", printer.text()}});
    if (options.verbose)
      fmt::print(stderr, "prompt: {} tokens | answer: {} tokens, {:.1f} tokens/s | finish: {}\n",
                 result->n_prompt_tokens, result->tokens.size(),
                 result->generation_tokens_per_second(), finish_reason_name(result->finish_reason));
  }
  return 0;
}

}  // namespace locara::cli
