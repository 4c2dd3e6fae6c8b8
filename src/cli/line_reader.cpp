#include "cli/line_reader.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#if LOCARA_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

namespace locara::cli {

LineReader::LineReader() : interactive_(isatty(STDIN_FILENO) != 0) {
#if LOCARA_HAVE_LIBEDIT
  if (interactive_) using_history();
#endif
}

LineReader::~LineReader() {
#if LOCARA_HAVE_LIBEDIT
  if (interactive_) clear_history();
#endif
}

std::optional<std::string> LineReader::read(const std::string& prompt) {
#if LOCARA_HAVE_LIBEDIT
  if (interactive_) {
    char* raw = readline(prompt.c_str());
    if (!raw) return std::nullopt;
    std::string line(raw);
    std::free(raw);
    if (!line.empty()) add_history(line.c_str());
    return line;
  }
#endif
  if (interactive_) {
    std::fputs(prompt.c_str(), stdout);
    std::fflush(stdout);
  }
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace locara::cli
