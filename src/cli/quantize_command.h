// `locara quantize IN OUT TYPE`: convert a GGUF model to another file type, each tensor
// getting the type llama.cpp's quantizer gives it.
#pragma once

#include <string>

#include "cli/command.h"

namespace locara::cli {

struct QuantizeCommandOptions {
  std::string input_path;
  std::string output_path;
  std::string type;
  bool pure = false;
  bool allow_requantize = false;
  bool repack = false;
  bool verbose = false;
  int threads = 0;
};

// Registers `quantize` on the app.
Command add_quantize_command(CLI::App& app);
// Runs it; returns the process exit code.
int quantize_command(const QuantizeCommandOptions& options);

}  // namespace locara::cli
