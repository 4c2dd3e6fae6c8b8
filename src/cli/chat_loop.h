// `locara run --chat`: an interactive multi-turn conversation over one session, each turn
// rendered with the model's chat template (ChatML when the model has none).
#pragma once

#include <string>

#include "engine/session.h"

namespace locara::cli {

struct ChatLoopOptions {
  std::string system_prompt;  // empty: no system message
  std::string first_message;  // sent before reading input (the PROMPT argument), if any
  GenerationOptions generation;
  bool verbose = false;  // per-answer token counts and speed on stderr
};

// Reads user lines (libedit on a terminal, plain lines from a pipe) until end of input
// (Ctrl-D) and streams each answer to stdout, followed by a newline. Ctrl-C stops the
// current answer, not the program. Returns the process exit code: 0, or 1 when the model's
// template cannot be parsed.
int run_chat_loop(Session& session, const ChatLoopOptions& options);

}  // namespace locara::cli
