// `locara apps validate FILE`: checks an app manifest (locara.toml) and prints OK or every
// problem with its key and line.
#pragma once

#include <string>

#include "cli/command.h"

namespace locara::cli {

// Registers `apps` (with its `validate` subcommand) on the app.
Command add_apps_command(CLI::App& app);
// Validates one manifest; returns 0 when it is valid, 1 otherwise.
int apps_validate_command(const std::string& path);

}  // namespace locara::cli
