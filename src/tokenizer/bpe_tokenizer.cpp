#include "tokenizer/bpe_tokenizer.h"

#include <algorithm>

#include "tokenizer/byte_level.h"
#include "tokenizer/special_tokens.h"

namespace locara {
namespace {

// One symbol of a word being merged; merged-away symbols are unlinked from the chain.
struct Symbol {
  int32_t id;  // kNoToken for a byte whose character is not a token
  int32_t prev;
  int32_t next;  // -1 at the ends
};

// Two adjacent symbols that a merge joins. left_id/right_id are the ids when queued: if
// either symbol has changed since, the entry is stale.
struct Candidate {
  int32_t rank;
  int32_t left;
  int32_t right;
  int32_t left_id;
  int32_t right_id;
  int32_t result;
};

// Lowest rank first; among equal ranks the leftmost pair, as in llama.cpp.
struct LaterCandidate {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

Expected<std::unique_ptr<BpeTokenizer>> BpeTokenizer::create(
    Vocab vocab, const std::vector<std::string_view>& merges, size_t word_cache_capacity) {
  const std::string pre = vocab.config().pre;
  LOCARA_ASSIGN_OR_RETURN(Pretokenizer pretokenizer, Pretokenizer::for_name(pre));
  const PretokenizerFlags flags = pretokenizer_flags(pre).value_or(PretokenizerFlags{});
  std::unique_ptr<BpeTokenizer> tokenizer(
      new BpeTokenizer(std::move(vocab), std::move(pretokenizer), flags, word_cache_capacity));

  const Vocab& v = tokenizer->vocab_;
  tokenizer->merges_.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string_view merge = merges[rank];
    // Split at the first space after the first character, as llama.cpp does.
    const size_t space = merge.find(' ', 1);
    if (space == std::string_view::npos) continue;
    const std::string_view left = merge.substr(0, space);
    const std::string_view right = merge.substr(space + 1);
    joined.assign(left).append(right);
    const int32_t left_id = v.find(left);
    const int32_t right_id = v.find(right);
    const int32_t result = v.find(joined);
    if (left_id == kNoToken || right_id == kNoToken || result == kNoToken) continue;
    // A repeated pair keeps its first (best) rank.
    tokenizer->merges_.try_emplace(pair_key(left_id, right_id),
                                   Merge{static_cast<int32_t>(rank), result});
  }
  return tokenizer;
}

BpeTokenizer::BpeTokenizer(Vocab vocab, Pretokenizer pretokenizer, PretokenizerFlags flags,
                           size_t word_cache_capacity)
    : Tokenizer(std::move(vocab), flags.clean_spaces, word_cache_capacity),
      pretokenizer_(std::move(pretokenizer)),
      flags_(flags) {
  for (int byte = 0; byte < 256; ++byte) {
    byte_tokens_[static_cast<size_t>(byte)] =
        vocab_.find(byte_level_char(static_cast<uint8_t>(byte)));
  }
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text, bool add_special,
                                          bool parse_special) const {
  std::vector<int32_t> ids;
  if (add_special && vocab_.add_bos()) ids.push_back(vocab_.bos());
  std::vector<TextSpan> words;
  for (const TextFragment& fragment : partition_special_tokens(text, vocab_, parse_special)) {
    if (fragment.is_token()) {
      ids.push_back(fragment.token);
      continue;
    }
    const std::string_view span = text.substr(fragment.offset, fragment.length);
    pretokenizer_.split(span, words);
    for (const TextSpan& word : words) encode_word(span.substr(word.offset, word.length), ids);
  }
  if (add_special && vocab_.add_eos()) ids.push_back(vocab_.eos());
  return ids;
}

void BpeTokenizer::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  encode_cached(word, out,
                [this](std::string_view w, std::vector<int32_t>& o) { merge_word(w, o); });
}

void BpeTokenizer::append_unmatched_byte(uint8_t byte, std::vector<int32_t>& out) const {
  for (const char c : byte_level_char(byte)) {
    if (const int32_t id = vocab_.find(std::string_view(&c, 1)); id != kNoToken) {
      out.push_back(id);
    }
  }
}

void BpeTokenizer::merge_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (flags_.ignore_merges) {
    std::string spelled;
    append_byte_level(word, spelled);
    if (const int32_t id = vocab_.find(spelled); id != kNoToken) {
      out.push_back(id);
      return;
    }
  }

  // Every byte starts as the token of its byte-level character.
  const auto n = static_cast<int32_t>(word.size());
  std::vector<Symbol> symbols(word.size());
  for (int32_t i = 0; i < n; ++i) {
    symbols[static_cast<size_t>(i)] = {byte_tokens_[static_cast<uint8_t>(word[i])], i - 1,
                                       i + 1 < n ? i + 1 : -1};
  }

  std::vector<Candidate> queue;
  auto try_queue = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const int32_t left_id = symbols[static_cast<size_t>(left)].id;
    const int32_t right_id = symbols[static_cast<size_t>(right)].id;
    if (left_id == kNoToken || right_id == kNoToken) return;
    const auto it = merges_.find(pair_key(left_id, right_id));
    if (it == merges_.end()) return;
    queue.push_back({it->second.rank, left, right, left_id, right_id, it->second.result});
    std::push_heap(queue.begin(), queue.end(), LaterCandidate{});
  };
  for (int32_t i = 1; i < n; ++i) try_queue(i - 1, i);

  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end(), LaterCandidate{});
    const Candidate candidate = queue.back();
    queue.pop_back();
    Symbol& left = symbols[static_cast<size_t>(candidate.left)];
    Symbol& right = symbols[static_cast<size_t>(candidate.right)];
    if (left.next != candidate.right || left.id != candidate.left_id ||
        right.id != candidate.right_id) {
      continue;  // one side was merged into something else since this pair was queued
    }
    left.id = candidate.result;
    left.next = right.next;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = candidate.left;
    right.next = -1;
    right.id = kNoToken;
    try_queue(left.prev, candidate.left);
    try_queue(candidate.left, left.next);
  }

  for (int32_t i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
    const int32_t id = symbols[static_cast<size_t>(i)].id;
    if (id != kNoToken) {
      out.push_back(id);
    } else {
      append_unmatched_byte(static_cast<uint8_t>(word[static_cast<size_t>(i)]), out);
    }
  }
}

std::string BpeTokenizer::decode_normal(std::string_view text) const {
  std::string bytes;
  append_byte_level_decoded(text, bytes);
  return bytes;
}

}  // namespace locara
