#include "tokenizer/wpm_tokenizer.h"

#include <algorithm>

#include "tokenizer/space_marker.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/unicode_data.h"
#include "tokenizer/utf8.h"

namespace locara {
namespace {

// Control and other "C" characters that are not whitespace (tab, newline, U+0085 stay
// whitespace), and U+FFFD: BertNormalizer drops them.
constexpr std::string_view kControls = R"((?!\s)[\p{C}\x{FFFD}])";

// What BERT cuts out as one-character words: Unicode punctuation, every ASCII character
// that is neither a letter, a digit nor a space, and the CJK ideographs of its
// _is_chinese_char (with its 0x2B920 start of Extension E, as Hugging Face has it).
constexpr std::string_view kIsolated =
    R"(\p{P}!-/:-@\[-`{-~\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF})"
    R"(\x{2A700}-\x{2B73F}\x{2B740}-\x{2B81F}\x{2B920}-\x{2CEAF}\x{F900}-\x{FAFF})"
    R"(\x{2F800}-\x{2FA1F})";

std::string words_pattern() {
  return std::string("[") + std::string(kIsolated) + "]|[^\\s" + std::string(kIsolated) + "]+";
}

}  // namespace

Expected<std::unique_ptr<WpmTokenizer>> WpmTokenizer::create(Vocab vocab) {
  LOCARA_ASSIGN_OR_RETURN(Regex controls, Regex::compile(kControls));
  LOCARA_ASSIGN_OR_RETURN(Regex words, Regex::compile(words_pattern()));
  return std::unique_ptr<WpmTokenizer>(
      new WpmTokenizer(std::move(vocab), std::move(controls), std::move(words)));
}

WpmTokenizer::WpmTokenizer(Vocab vocab, Regex controls, Regex words)
    : Tokenizer(std::move(vocab), /*clean_spaces=*/true),
      controls_(std::move(controls)),
      words_(std::move(words)) {
  for (int32_t id = 0; id < vocab_.n_tokens(); ++id) {
    max_token_length_ = std::max(max_token_length_, vocab_.text(id).size());
  }
}

std::vector<int32_t> WpmTokenizer::encode(std::string_view text, bool add_special,
                                          bool parse_special) const {
  std::vector<int32_t> ids;
  if (add_special && vocab_.add_bos()) ids.push_back(vocab_.bos());
  for (const TextFragment& fragment : partition_special_tokens(text, vocab_, parse_special)) {
    if (fragment.is_token()) {
      ids.push_back(fragment.token);
      continue;
    }
    const std::string normalized = normalize(text.substr(fragment.offset, fragment.length));
    for (const TextSpan& word : split_words(normalized)) {
      encode_word(std::string_view(normalized).substr(word.offset, word.length), ids);
    }
  }
  if (add_special && vocab_.add_sep()) ids.push_back(vocab_.sep());
  return ids;
}

std::string WpmTokenizer::normalize(std::string_view text) const {
  std::vector<TextSpan> dropped;
  controls_.find_all(text, dropped);
  std::string normalized;
  normalized.reserve(text.size());
  size_t pos = 0;
  auto next_drop = dropped.begin();
  while (pos < text.size()) {
    if (next_drop != dropped.end() && pos == next_drop->offset) {
      pos = next_drop->end();
      ++next_drop;
      continue;
    }
    const uint32_t codepoint = utf8_decode(text, pos);
    if (codepoint != kInvalidCodepoint) append_bert_normalized(codepoint, normalized);
  }
  return normalized;
}

std::vector<TextSpan> WpmTokenizer::split_words(std::string_view normalized) const {
  std::vector<TextSpan> words;
  words_.find_all(normalized, words);
  return words;
}

void WpmTokenizer::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  std::string marked(kSpaceMarker);
  marked += word;
  const std::string_view text = marked;
  const size_t first = out.size();
  for (size_t begin = 0; begin < text.size();) {
    size_t end = std::min(text.size(), begin + max_token_length_);
    int32_t id = kNoToken;
    for (; end > begin; --end) {
      id = vocab_.find(text.substr(begin, end - begin));
      if (id != kNoToken) break;
    }
    if (id == kNoToken) {  // this position has no piece: the whole word is unknown
      out.resize(first);
      break;
    }
    out.push_back(id);
    begin = end;
  }
  if (out.size() == first && vocab_.unk() != kNoToken) out.push_back(vocab_.unk());
}

std::string WpmTokenizer::decode_normal(std::string_view text) const {
  return space_unescaped(text);
}

}  // namespace locara
