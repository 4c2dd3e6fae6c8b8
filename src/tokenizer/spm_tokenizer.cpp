#include "tokenizer/spm_tokenizer.h"

#include <algorithm>
#include <cstddef>
#include <queue>

#include "tokenizer/space_marker.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/utf8.h"

namespace locara {
namespace {

constexpr size_t kNone = static_cast<size_t>(-1);

bool ends_with_marker(std::string_view text) {
  return text.size() >= kSpaceMarker.size() &&
         text.substr(text.size() - kSpaceMarker.size()) == kSpaceMarker;
}

// A run of the text that is one token candidate; merged-away symbols keep length 0.
struct Symbol {
  size_t offset;
  size_t length;
  size_t prev;  // kNone at the ends of the chain
  size_t next;
};

// Two adjacent symbols whose concatenation is a token with `score`. `length` is what the
// pair spanned when queued: if either side has changed since, the entry is stale.
struct Bigram {
  float score;
  size_t left;
  size_t right;
  size_t length;
};

// Highest score first; among equal scores the leftmost pair, as in llama.cpp.
struct LowerPriority {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

SpmTokenizer::SpmTokenizer(Vocab vocab, size_t word_cache_capacity)
    : Tokenizer(std::move(vocab), /*clean_spaces=*/false, word_cache_capacity) {
  merges_stay_within_words_ = true;
  for (int32_t id = 0; id < vocab_.n_tokens() && merges_stay_within_words_; ++id) {
    const std::string_view text = vocab_.text(id);
    for (size_t at = text.find(kSpaceMarker, 1); at != std::string_view::npos;
         at = text.find(kSpaceMarker, at + 1)) {
      if (!ends_with_marker(text.substr(0, at))) {
        merges_stay_within_words_ = false;
        break;
      }
    }
  }
}

std::vector<int32_t> SpmTokenizer::encode(std::string_view text, bool add_special,
                                          bool parse_special) const {
  std::vector<int32_t> ids;
  if (add_special && vocab_.add_bos()) ids.push_back(vocab_.bos());

  // The space prefix goes before the first text span and before every span that follows a
  // special token (llama.cpp's is_prev_special), so "<s>Hi" tokenizes like "Hi" after BOS.
  bool after_special = true;
  std::string escaped;
  for (const TextFragment& fragment : partition_special_tokens(text, vocab_, parse_special)) {
    if (fragment.is_token()) {
      ids.push_back(fragment.token);
      after_special = true;
      continue;
    }
    escaped.clear();
    if (vocab_.add_space_prefix() && after_special) escaped += kSpaceMarker;
    append_space_escaped(text.substr(fragment.offset, fragment.length), escaped);
    encode_span(escaped, ids);
    after_special = false;
  }

  if (add_special && vocab_.add_eos()) ids.push_back(vocab_.eos());
  return ids;
}

void SpmTokenizer::encode_span(std::string_view escaped, std::vector<int32_t>& out) const {
  const auto merge = [this](std::string_view span, std::vector<int32_t>& o) {
    merge_span(span, o);
  };
  if (!merges_stay_within_words_) {
    merge_span(escaped, out);
    return;
  }
  // Cut before each marker that follows another character, at the character boundaries
  // merge_span uses (so that invalid text splits the same way).
  size_t word_start = 0;
  bool previous_is_marker = true;
  for (size_t offset = 0; offset < escaped.size();) {
    const size_t length = std::min(utf8_sequence_length(static_cast<uint8_t>(escaped[offset])),
                                   escaped.size() - offset);
    const bool is_marker = escaped.substr(offset, length) == kSpaceMarker;
    if (is_marker && !previous_is_marker && offset > word_start) {
      encode_cached(escaped.substr(word_start, offset - word_start), out, merge);
      word_start = offset;
    }
    previous_is_marker = is_marker;
    offset += length;
  }
  if (word_start < escaped.size()) encode_cached(escaped.substr(word_start), out, merge);
}

void SpmTokenizer::merge_span(std::string_view escaped, std::vector<int32_t>& out) const {
  if (escaped.empty()) return;

  // Characters as llama.cpp splits them (a truncated or invalid sequence stays together).
  std::vector<Symbol> symbols;
  symbols.reserve(escaped.size());
  for (size_t offset = 0; offset < escaped.size();) {
    const size_t length = std::min(utf8_sequence_length(static_cast<uint8_t>(escaped[offset])),
                                   escaped.size() - offset);
    const size_t index = symbols.size();
    symbols.push_back({offset, length, index == 0 ? kNone : index - 1, index + 1});
    offset += length;
  }
  symbols.back().next = kNone;

  std::priority_queue<Bigram, std::vector<Bigram>, LowerPriority> queue;
  auto try_add_bigram = [&](size_t left, size_t right) {
    if (left == kNone || right == kNone) return;
    const std::string_view joined =
        escaped.substr(symbols[left].offset, symbols[left].length + symbols[right].length);
    const int32_t id = vocab_.find(joined);
    if (id == kNoToken) return;
    queue.push({vocab_.score(id), left, right, joined.size()});
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_add_bigram(i - 1, i);

  while (!queue.empty()) {
    const Bigram bigram = queue.top();
    queue.pop();
    Symbol& left = symbols[bigram.left];
    Symbol& right = symbols[bigram.right];
    if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.length) {
      continue;  // one side was merged into something else since this pair was queued
    }
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next != kNone) symbols[right.next].prev = bigram.left;
    try_add_bigram(left.prev, bigram.left);
    try_add_bigram(bigram.left, left.next);
  }

  // Every merged symbol is a token (a pair is only queued when its text is one), so what is
  // left to spell out is single characters the vocabulary lacks. That is all llama.cpp's
  // "resegment" step ever sees for SentencePiece: its reverse-merge table only holds texts
  // that are tokens, so its recursive split never fires and it reduces to this byte fallback.
  for (size_t i = 0; i != kNone; i = symbols[i].next) {
    const std::string_view piece = escaped.substr(symbols[i].offset, symbols[i].length);
    if (const int32_t id = vocab_.find(piece); id != kNoToken) {
      out.push_back(id);
      continue;
    }
    const bool has_byte_tokens = std::all_of(piece.begin(), piece.end(), [this](char c) {
      return vocab_.byte_token(static_cast<uint8_t>(c)) != kNoToken;
    });
    if (has_byte_tokens) {
      for (const char c : piece) out.push_back(vocab_.byte_token(static_cast<uint8_t>(c)));
    } else if (vocab_.unk() != kNoToken) {
      // No byte fallback in this vocabulary: the whole character is unknown, as in
      // SentencePiece. (llama.cpp would throw here.)
      out.push_back(vocab_.unk());
    }
  }
}

std::string SpmTokenizer::decode_normal(std::string_view text) const {
  return space_unescaped(text);
}

}  // namespace locara
