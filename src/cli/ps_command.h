// `locara ps`: the runtime's models as it holds them (size, context, KV type, pins, idle
// time, owner apps). With no daemon yet, it shows this process's runtime (--load demo).
#pragma once

#include <string>
#include <vector>

#include "cli/command.h"

namespace locara::cli {

struct PsOptions {
  std::vector<std::string> load;  // GGUF files to load into this process's runtime first
  bool pin = false;               // pin them ("keep loaded") for the app "cli"
  int64_t ctx_size = 0;           // context to plan them with (0: the model's, at most 4096)
  bool verbose = false;           // also the budget and the manager's decision log
};

// Registers `ps` on the app.
Command add_ps_command(CLI::App& app);
// Runs it; returns the process exit code.
int ps_command(const PsOptions& options);

}  // namespace locara::cli
