// Reads the user's lines for interactive commands: with line editing and history (libedit)
// on a terminal, plainly from a pipe so scripts and tests can drive the command.
#pragma once

#include <optional>
#include <string>

namespace locara::cli {

// Not thread-safe (libedit keeps global state): one reader at a time.
class LineReader {
 public:
  LineReader();
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Whether standard input is a terminal (prompts are shown, lines are edited).
  bool interactive() const { return interactive_; }
  // The next line without its newline; nullopt at end of input (Ctrl-D).
  std::optional<std::string> read(const std::string& prompt);

 private:
  bool interactive_ = false;
};

}  // namespace locara::cli
