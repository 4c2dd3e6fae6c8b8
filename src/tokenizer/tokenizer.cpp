#include "tokenizer/tokenizer.h"

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
  return text;
}

}  // namespace locara
