// Prompt-processing and generation speed of a loaded model, measured the way llama-bench
// measures it, and the facts about its weights that decode speed depends on.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "kv/kv_cache.h"
#include "model/model.h"

namespace locara {

struct SpeedTestOptions {
  int64_t n_prompt = 0;  // > 0: a prompt test (ppN): N random tokens from an empty cache
  int64_t n_gen = 0;     // > 0: a generation test (tgN): N tokens one at a time
  int n_threads = 1;
  int repetitions = 5;
  int64_t batch = 512;  // prompt tokens per forward pass
  KvType kv_type = KvType::kF16;
  uint64_t seed = 1;  // for the random token ids
};

struct SpeedTestResult {
  std::vector<double> seconds;            // per repetition
  std::vector<double> tokens_per_second;  // per repetition
  double mean_tokens_per_second = 0.0;
  double stddev_tokens_per_second = 0.0;  // sample standard deviation (n - 1), as llama-bench
  double mean_seconds = 0.0;
  double stddev_seconds = 0.0;
};

// Runs one test (exactly one of n_prompt and n_gen set), after an untimed one-token
// warm-up that faults every weight in. Each repetition starts from a fresh cache of
// n_prompt + n_gen positions. Not thread-safe with other work on the same model's pages
// if timings are to mean anything; the model itself is only read.
Expected<SpeedTestResult> run_speed_test(const Model& model, const SpeedTestOptions& options);

struct WeightSummary {
  uint64_t total_bytes = 0;                 // every tensor
  uint64_t n_parameters = 0;                // elements of every tensor
  uint64_t bytes_per_token = 0;             // read per generated token: all tensors but token_embd
                                            // (one row of it is looked up), as in PERF-ANCHORS.md
  TensorType main_type = TensorType::kF32;  // the type holding the most weight elements
};
WeightSummary summarize_weights(const GgufReader& gguf);

}  // namespace locara
