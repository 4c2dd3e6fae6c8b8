// Regular expressions for the tokenizers: PCRE2 compiled once with UTF, Unicode properties
// (\p{L}, \s, ... by the Unicode tables) and JIT, then matched from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace locara {

// A run of text, as byte offsets into the text it was found in.
struct TextSpan {
  size_t offset = 0;
  size_t length = 0;
  size_t end() const { return offset + length; }
  bool operator==(const TextSpan&) const = default;
};

// Immutable after compile(); safe to use from many threads at once (each thread matches with
// its own scratch space).
class Regex {
 public:
  // Fails with kInvalidArgument naming the pattern, PCRE2's message and the offset.
  static Expected<Regex> compile(std::string_view pattern);

  // Appends the matches in `text`, left to right and not overlapping, as spans relative to
  // `text`. Lookarounds, ^ and $ see only `text`; $ matches only at its very end. Bytes that
  // are not valid UTF-8 never match. An empty match marks a split point: it is reported as a
  // zero-length span, and the search goes on one character later.
  void find_all(std::string_view text, std::vector<TextSpan>& matches) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Code;
  Regex(std::string pattern, std::shared_ptr<const Code> code)
      : pattern_(std::move(pattern)), code_(std::move(code)) {}

  std::string pattern_;
  std::shared_ptr<const Code> code_;
};

}  // namespace locara
