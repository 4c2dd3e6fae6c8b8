#include "tokenizer/special_tokens.h"

#include <bitset>

namespace locara {
namespace {

// C-locale isspace, on bytes (std::isspace on a negative char is undefined).
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Cuts one text span around every occurrence of `special`, appending the pieces to `out`.
void split_span(std::string_view text, const TextFragment& span, int32_t special,
                std::string_view special_text, uint32_t attrs, std::vector<TextFragment>& out) {
  size_t begin = span.offset;
  const size_t end = span.offset + span.length;
  while (begin < end) {
    const size_t match = text.substr(0, end).find(special_text, begin);
    if (match == std::string_view::npos) break;
    size_t left_end = match;
    if (attrs & kAttrLstrip) {
      while (left_end > begin && is_space(text[left_end - 1])) --left_end;
    }
    if (left_end > begin) out.push_back({kNoToken, begin, left_end - begin});
    out.push_back({special, 0, 0});
    begin = match + special_text.size();
    if (attrs & kAttrRstrip) {
      while (begin < end && is_space(text[begin])) ++begin;
    }
  }
  if (begin < end) out.push_back({kNoToken, begin, end - begin});
}

// The bytes and byte pairs that occur in a text: a special token can only occur where its
// first two bytes do. Vocabularies with thousands of added tokens (DeepSeek's) would otherwise
// search the whole text once per token.
class BytePairs {
 public:
  explicit BytePairs(std::string_view text) {
    for (size_t i = 0; i < text.size(); ++i) {
      bytes_.set(static_cast<uint8_t>(text[i]));
      if (i + 1 < text.size()) pairs_.set(pair(text[i], text[i + 1]));
    }
  }
  bool may_contain(std::string_view needle) const {
    if (needle.size() == 1) return bytes_.test(static_cast<uint8_t>(needle[0]));
    return pairs_.test(pair(needle[0], needle[1]));
  }

 private:
  static size_t pair(char first, char second) {
    return static_cast<size_t>(static_cast<uint8_t>(first)) << 8 | static_cast<uint8_t>(second);
  }
  std::bitset<256> bytes_;
  std::bitset<65536> pairs_;
};

}  // namespace

std::vector<TextFragment> partition_special_tokens(std::string_view text, const Vocab& vocab,
                                                   bool parse_special) {
  std::vector<TextFragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({kNoToken, 0, text.size()});

  std::vector<TextFragment> next;
  const BytePairs present(text);
  for (const int32_t special : vocab.special_tokens()) {
    const TokenData& data = vocab.token(special);
    if (!parse_special && (data.attrs & (kAttrControl | kAttrUnknown))) continue;
    // Vocabularies carry hundreds of special tokens; most appear nowhere in the text.
    if (!present.may_contain(data.text) || text.find(data.text) == std::string_view::npos) {
      continue;
    }
    next.clear();
    for (const TextFragment& fragment : fragments) {
      if (fragment.is_token()) {
        next.push_back(fragment);
      } else {
        split_span(text, fragment, special, data.text, data.attrs, next);
      }
    }
    fragments.swap(next);
  }
  return fragments;
}

}  // namespace locara
