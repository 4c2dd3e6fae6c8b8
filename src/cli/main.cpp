// The `locara` command: parses the command line and hands each subcommand its options.
#include <CLI/CLI.hpp>

#include "cli/run_command.h"
#include "locara/version.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Locara: a local LLM runtime that runs GGUF models on this machine.\n"
      "Weights are memory-mapped, never copied; threads default to the physical cores."};
  app.set_version_flag("--version", "locara " LOCARA_VERSION_STRING);
  app.require_subcommand(1);

  locara::cli::RunOptions run_options;
  CLI::App* run = locara::cli::add_run_command(app, run_options);

  CLI11_PARSE(app, argc, argv);
  if (run->parsed()) return locara::cli::run_command(run_options);
  return 0;
}
