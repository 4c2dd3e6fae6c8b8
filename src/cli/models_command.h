// `locara models`: lists the model store (size, architecture, quant type, context), and
// `locara models add FILE [--name N] [--copy]` links or copies a GGUF file into it.
#pragma once

#include "cli/command.h"

namespace locara::cli {

Command add_models_command(CLI::App& app);

}  // namespace locara::cli
