// The `locara` command: parses the command line and runs the chosen subcommand.
#include <CLI/CLI.hpp>
#include <vector>

#include "cli/apps_command.h"
#include "cli/bench_command.h"
#include "cli/chat_template_command.h"
#include "cli/compare_command.h"
#include "cli/models_command.h"
#include "cli/plan_command.h"
#include "cli/ps_command.h"
#include "cli/quantize_command.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"
#include "cli/synth_command.h"
#include "cli/tokenize_command.h"
#include "locara/version.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Locara: a local LLM runtime that runs GGUF models on this machine.\n"
      "Weights are memory-mapped, never copied; threads default to the physical cores."};
  app.set_version_flag("--version", "locara " LOCARA_VERSION_STRING);
  app.require_subcommand(1);

  using namespace locara::cli;
  // One line per subcommand, each defined in its own file.
  const std::vector<Command> commands = {
      add_run_command(app),
      add_plan_command(app),
      add_ps_command(app),
      add_apps_command(app),
      add_synth_command(app),
      add_quantize_command(app),
      add_bench_command(app),
      add_chat_template_command(app),
      add_serve_command(app),
      add_models_command(app),
      add_compare_command(app),
      add_tokenize_command(app),
  };

  CLI11_PARSE(app, argc, argv);
  for (const Command& command : commands) {
    if (command.parser->parsed()) return command.run();
  }
  return 0;
}
