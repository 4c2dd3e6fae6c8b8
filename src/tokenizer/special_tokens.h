// Splitting input text around special-token texts before a tokenizer family sees it
// (llama.cpp's tokenizer_st_partition): shared by every family.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace locara {

// Either a special token found in the text, or a span of text still to be tokenized.
struct TextFragment {
  int32_t token = kNoToken;  // kNoToken for a text span
  size_t offset = 0;         // the span, as offsets into the partitioned text
  size_t length = 0;
  bool is_token() const { return token != kNoToken; }
};

// Finds the texts of vocab.special_tokens() in `text`, longest first, and returns the text
// cut around them; text spans are never empty. User-defined tokens are always matched;
// control and unknown tokens only with parse_special. A token with kAttrLstrip / kAttrRstrip
// drops the whitespace next to it. Empty text gives no fragments.
std::vector<TextFragment> partition_special_tokens(std::string_view text, const Vocab& vocab,
                                                   bool parse_special);

}  // namespace locara
