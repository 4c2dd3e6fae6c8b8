// `locara ps`: the models a running daemon (`locara serve`) holds, asked over HTTP, as a
// table: size, context, KV type, pins, idle time, how long it stays loaded, owner apps.
#pragma once

#include <string>

#include "cli/command.h"
#include "server/server_options.h"

namespace locara::cli {

struct PsOptions {
  std::string host = "127.0.0.1";   // where `locara serve` listens
  int port = server::kDefaultPort;  // where it listens by default
  int timeout_seconds = 5;          // to connect, and for the answer
};

// Registers `ps` on the app.
Command add_ps_command(CLI::App& app);
// Runs it; returns the process exit code (1 when no daemon answers, or it answers wrongly).
int ps_command(const PsOptions& options);

}  // namespace locara::cli
