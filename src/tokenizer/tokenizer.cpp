#include "tokenizer/tokenizer.h"

#include <optional>

namespace locara {

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool remove_special,
                              bool render_special) const {
  // The first piece loses one leading space when the vocabulary prefixed one; a leading BOS
  // (removed or not) counts as the first token, so the space after it stays.
  bool remove_space = vocab_.add_space_prefix();
  size_t begin = 0;
  size_t end = ids.size();
  if (remove_special && vocab_.add_bos() && begin < end && ids[begin] == vocab_.bos()) {
    remove_space = false;
    ++begin;
  }
  if (remove_special && vocab_.add_eos() && begin < end && ids[end - 1] == vocab_.eos()) --end;
  std::string text;
  for (size_t i = begin; i < end; ++i) {
    const std::string piece = token_to_piece(ids[i], render_special);
    const bool strip = remove_space && !piece.empty() && piece.front() == ' ';
    text.append(piece, strip ? 1 : 0);
    remove_space = false;
  }
  return clean_spaces_ ? clean_up_spaces(text) : text;
}

std::string Tokenizer::token_to_piece(int32_t id, bool render_special) const {
  if (!vocab_.contains(id)) return {};
  const TokenData& token = vocab_.token(id);
  if (token.attrs & (kAttrControl | kAttrUnknown)) {
    return render_special ? token.text : std::string();
  }
  if (token.attrs & kAttrUserDefined) return token.text;
  if (token.attrs & kAttrNormal) return decode_normal(token.text);
  if (token.attrs & kAttrByte) {
    const std::optional<uint8_t> byte = vocab_.token_byte(id);
    return byte ? std::string(1, static_cast<char>(*byte)) : std::string();
  }
  return {};  // unused and undefined tokens render as nothing, as in llama.cpp
}

// Three passes over the text, as llama.cpp makes them; each looks at the text as the pass
// before left it.
std::string clean_up_spaces(std::string_view text) {
  if (text.size() < 2) return std::string(text);
  const auto is_space_at = [](std::string_view s, size_t i) { return s[i] == ' '; };

  // 1. " ?", " !", " .", " ," lose the space.
  std::string first(1, text[0]);
  for (size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (is_space_at(text, i - 1) && (c == '?' || c == '!' || c == '.' || c == ',')) {
      first.pop_back();
    }
    first += c;
  }

  // 2. " ' " becomes "'". The space dropped after the apostrophe no longer counts as the
  // space before the character that follows it.
  std::string second(1, first[0]);
  size_t dropped = std::string::npos;
  for (size_t i = 1; i < first.size(); ++i) {
    const char c = first[i];
    const bool space_before = is_space_at(first, i - 1) && dropped != i - 1;
    if (c == '\'' && i + 1 < first.size() && space_before && is_space_at(first, i + 1)) {
      second.pop_back();
      second += c;
      dropped = ++i;
      continue;
    }
    second += c;
  }

  // 3. Contractions: " 's", " 'm", " 're", " 've" lose the space (" 't", " 'd", " 'll" keep it).
  std::string third(1, second[0]);
  for (size_t i = 1; i < second.size(); ++i) {
    const char c = second[i];
    if (c == '\'' && is_space_at(second, i - 1) && i + 1 < second.size()) {
      const char next = second[i + 1];
      const char after = i + 2 < second.size() ? second[i + 2] : '\0';
      if (next == 's' || next == 'm' || (after == 'e' && (next == 'r' || next == 'v'))) {
        third.pop_back();
      }
    }
    third += c;
  }
  return third;
}

}  // namespace locara
