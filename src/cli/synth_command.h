// `locara synth`: write a deterministic random-weight llama GGUF of any shape and type,
// for benchmarks and tests that must not depend on a download.
#pragma once

#include <cstdint>
#include <string>

#include "cli/command.h"

namespace locara::cli {

struct SynthOptions {
  std::string shape;  // "hidden,layers,heads,kv_heads,ffn"
  int64_t n_vocab = 32000;
  std::string type = "f32";
  int64_t ctx = 2048;
  uint64_t seed = 1;
  bool pure = false;
  int threads = 0;
  std::string output_path;
};

// Registers `synth` on the app.
Command add_synth_command(CLI::App& app);
// Runs it; returns the process exit code.
int synth_command(const SynthOptions& options);

}  // namespace locara::cli
