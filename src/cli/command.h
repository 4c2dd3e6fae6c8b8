// A subcommand of `locara`: its CLI11 parser and the function that runs it once parsed.
// Each command lives in its own file and is listed once in main.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace locara::cli {

struct Command {
  CLI::App* parser = nullptr;
  std::function<int()> run;  // returns the process exit code
};

}  // namespace locara::cli
