// `locara run MODEL [PROMPT]`: load a model, stream a completion to stdout, report speed
// (and, with --verbose, the process's anonymous vs file-backed memory) on stderr.
#pragma once

#include <cstdint>
#include <string>

#include "cli/command.h"

namespace locara::cli {

struct RunOptions {
  std::string model_path;
  std::string prompt;
  bool prompt_given = false;
  int32_t max_tokens = 128;
  float temperature = 0.8f;
  int32_t top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  int32_t repeat_last_n = 64;
  int64_t seed = 0;  // -1: a random seed
  int64_t ctx_size = 0;
  int threads = 0;
  std::string kv_type = "auto";
  bool ignore_eos = false;
  bool echo = false;
  bool verbose = false;
  bool chat = false;          // interactive multi-turn chat with the model's template
  std::string system_prompt;  // --chat: the system message
  bool max_tokens_given = false;
};

// Registers `run` on the app.
Command add_run_command(CLI::App& app);
// Runs it; returns the process exit code.
int run_command(const RunOptions& options);

}  // namespace locara::cli
