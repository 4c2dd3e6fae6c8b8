// `locara tokenize MODEL TEXT`: the token ids and pieces of a text with a model's own
// tokenizer, as llama-tokenize prints them (only the tokenizer is read, not the weights).
#pragma once

#include <string>

#include "cli/command.h"

namespace locara::cli {

enum class TokenizeFormat {
  kTable,   // "    id -> 'piece'" per token, as llama-tokenize prints
  kIds,     // [id, id, ...]
  kPieces,  // ['piece', 'piece', ...], escaped
  kJson,    // {"model", "n_tokens", "tokens": [{"id", "piece", "token"}]}
};

struct TokenizeOptions {
  std::string model_path;
  std::string text;         // "-" reads standard input
  bool no_special = false;  // neither add BOS/EOS nor parse special-token text
  TokenizeFormat format = TokenizeFormat::kTable;
};

// Registers `tokenize` on the app.
Command add_tokenize_command(CLI::App& app);
// Runs it; returns the process exit code.
int tokenize_command(const TokenizeOptions& options);

}  // namespace locara::cli
