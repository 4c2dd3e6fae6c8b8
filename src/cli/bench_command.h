// `locara bench -m MODEL`: prompt (ppN) and generation (tgN) speed as llama-bench reports
// it, plus, for generation, the bytes of weights read per token and the fraction of this
// machine's measured memory bandwidth (anonymous and mmapped-file rooflines) reached.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/command.h"

namespace locara::cli {

struct BenchOptions {
  std::string model_path;
  std::vector<int64_t> n_prompt = {512};  // 0 skips the prompt test
  std::vector<int64_t> n_gen = {128};     // 0 skips the generation test
  std::vector<int> threads;               // empty: physical cores
  int repetitions = 5;
  int64_t batch = 512;
  std::string kv_type = "f16";
  std::string output = "md";  // md | json
  bool roofline = true;
  int64_t roofline_mib = 0;  // anonymous buffer of the bandwidth test; 0: automatic
};

// Registers `bench` on the app.
Command add_bench_command(CLI::App& app);
// Runs it; returns the process exit code.
int bench_command(const BenchOptions& options);

}  // namespace locara::cli
