// `locara serve`: runs the daemon (OpenAI, Ollama and Locara APIs) until SIGINT/SIGTERM.
#pragma once

#include "cli/command.h"

namespace locara::cli {

Command add_serve_command(CLI::App& app);

}  // namespace locara::cli
