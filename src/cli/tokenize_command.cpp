#include "cli/tokenize_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "gguf/gguf_reader.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace locara::cli {
namespace {

// A piece as a quoted literal: quotes, backslashes, control characters and bytes that are
// not UTF-8 (a byte token is part of a character) escaped, so the output stays one line.
std::string quoted_piece(std::string_view piece) {
  std::string out = "'";
  for (size_t pos = 0; pos < piece.size();) {
    const size_t start = pos;
    const uint32_t codepoint = utf8_decode(piece, pos);
    switch (codepoint) {
      case '\'':
        out += "\\'";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (codepoint == kInvalidCodepoint || codepoint < 0x20 || codepoint == 0x7F) {
          out += fmt::format("\\x{:02x}", static_cast<uint8_t>(piece[start]));
        } else {
          out.append(piece.substr(start, pos - start));
        }
    }
  }
  return out + "'";
}

void print_tokens(const Tokenizer& tokenizer, const std::vector<int32_t>& ids,
                  const TokenizeOptions& options) {
  // Special tokens are shown by their text: they are what the user asked to see.
  auto piece = [&](int32_t id) { return tokenizer.token_to_piece(id, /*render_special=*/true); };
  switch (options.format) {
    case TokenizeFormat::kTable:
      for (const int32_t id : ids) fmt::print("{:>6} -> '{}'\n", id, piece(id));
      break;
    case TokenizeFormat::kIds:
      fmt::print("[{}]\n", fmt::join(ids, ", "));
      break;
    case TokenizeFormat::kPieces: {
      std::vector<std::string> pieces;
      for (const int32_t id : ids) pieces.push_back(quoted_piece(piece(id)));
      fmt::print("[{}]\n", fmt::join(pieces, ", "));
      break;
    }
    case TokenizeFormat::kJson: {
      nlohmann::json tokens = nlohmann::json::array();
      for (const int32_t id : ids) {
        tokens.push_back({{"id", id}, {"piece", piece(id)}, {"token", tokenizer.vocab().text(id)}});
      }
      const nlohmann::json out = {
          {"model", options.model_path}, {"n_tokens", ids.size()}, {"tokens", tokens}};
      // A byte token's piece is part of a character: shown as U+FFFD rather than failing.
      fmt::print("{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
      break;
    }
  }
}

}  // namespace

Command add_tokenize_command(CLI::App& app) {
  auto options = std::make_shared<TokenizeOptions>();
  TokenizeOptions& o = *options;
  CLI::App* tokenize = app.add_subcommand(
      "tokenize", "Print the tokens of a text as the model's tokenizer splits it");
  tokenize->add_option("model", o.model_path, "GGUF model (only its tokenizer is read)")
      ->required();
  tokenize->add_option("text", o.text, "Text to tokenize ('-' reads standard input)")->required();
  tokenize->add_flag("--no-special", o.no_special,
                     "Add no BOS/EOS and read special-token text (<|eot_id|>) as plain text");
  auto* ids = tokenize->add_flag_callback(
      "--ids", [&o] { o.format = TokenizeFormat::kIds; }, "Print the ids only: [1, 2, 3]");
  auto* pieces = tokenize->add_flag_callback(
      "--pieces", [&o] { o.format = TokenizeFormat::kPieces; },
      "Print the pieces only, quoted: ['Hello', ' world']");
  auto* json = tokenize->add_flag_callback(
      "--json", [&o] { o.format = TokenizeFormat::kJson; }, "Print ids and pieces as JSON");
  ids->excludes(pieces)->excludes(json);
  pieces->excludes(json);
  return {tokenize, [options] { return tokenize_command(*options); }};
}

int tokenize_command(const TokenizeOptions& options) {
  std::string text = options.text;
  if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), {});
  auto gguf = GgufReader::open(options.model_path);
  if (!gguf) {
    fmt::print(stderr, "locara: error: {}\n", gguf.error().message);
    return 1;
  }
  auto tokenizer = Tokenizer::from_gguf(**gguf, {.word_cache_capacity = 0});
  if (!tokenizer) {
    fmt::print(stderr, "locara: error: {}\n", tokenizer.error().message);
    return 1;
  }
  const bool special = !options.no_special;
  const std::vector<int32_t> ids =
      (*tokenizer)->encode(text, /*add_special=*/special, /*parse_special=*/special);
  print_tokens(**tokenizer, ids, options);
  return 0;
}

}  // namespace locara::cli
