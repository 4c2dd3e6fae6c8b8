// Unicode facts the tokenizers need beyond what PCRE2's matching gives: BERT's per-character
// normalization (decomposition, accent stripping, lowercasing), from generated tables.
#pragma once

#include <cstdint>
#include <string>

namespace locara {

// Nonspacing mark (general category Mn): the accents NFD splits off.
bool is_nonspacing_mark(uint32_t codepoint);

// Appends the normalized form of `codepoint` as Hugging Face's BertNormalizer gives it with
// lowercase and strip_accents on: NFD-decomposed, nonspacing marks dropped, lowercased.
// Nothing for a nonspacing mark; Hangul syllables become their jamo. Thread-safe.
void append_bert_normalized(uint32_t codepoint, std::string& out);

}  // namespace locara
