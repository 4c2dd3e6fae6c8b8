// `locara compare-logits BASE OTHER`: how closely a model (a quantization, say) follows
// another's next-token distributions on the same text: top-1 agreement and KL divergence.
#pragma once

#include <string>
#include <vector>

#include "cli/command.h"

namespace locara::cli {

struct CompareCommandOptions {
  std::string base_path;
  std::string other_path;
  std::string prompts_path;          // JSON ("cases": [{"prompt_tokens"|"prompt"}]) or lines
  std::vector<std::string> prompts;  // --prompt, each tokenized by the base model
  int tokens = 64;                   // greedy continuation of the base model per prompt
  std::string kv_type = "f32";
  std::string format = "text";   // text | json
  double min_top1_percent = -1;  // < 0: no check
  double max_mean_kl = -1;       // < 0: no check
  int threads = 0;
};

// Registers `compare-logits` on the app.
Command add_compare_command(CLI::App& app);
// Runs it; returns the process exit code (1: an error, 2: a --min-top1/--max-kl miss).
int compare_command(const CompareCommandOptions& options);

}  // namespace locara::cli
