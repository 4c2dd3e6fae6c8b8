#include "tokenizer/unicode_data.h"

#include <algorithm>

#include "tokenizer/unicode_data_tables.h"
#include "tokenizer/utf8.h"

namespace locara {
namespace {

using namespace unicode_tables;

// Hangul syllables decompose by formula into a leading consonant, a vowel and an optional
// trailing consonant (Unicode 3.12), which is why the tables leave them out.
constexpr uint32_t kHangulFirst = 0xAC00;
constexpr uint32_t kHangulLast = 0xD7A3;
constexpr uint32_t kLeadingBase = 0x1100;
constexpr uint32_t kVowelBase = 0x1161;
constexpr uint32_t kTrailingBase = 0x11A7;
constexpr uint32_t kVowelCount = 21;
constexpr uint32_t kTrailingCount = 28;

void append_hangul_jamo(uint32_t syllable, std::string& out) {
  const uint32_t index = syllable - kHangulFirst;
  utf8_append(kLeadingBase + index / (kVowelCount * kTrailingCount), out);
  utf8_append(kVowelBase + (index % (kVowelCount * kTrailingCount)) / kTrailingCount, out);
  if (const uint32_t trailing = index % kTrailingCount; trailing != 0) {
    utf8_append(kTrailingBase + trailing, out);
  }
}

template <typename T>
const T* find_entry(const T* table, size_t size, uint32_t codepoint) {
  const T* end = table + size;
  const T* it = std::lower_bound(table, end, codepoint,
                                 [](const T& entry, uint32_t cp) { return entry.from < cp; });
  return it != end && it->from == codepoint ? it : nullptr;
}

uint32_t lowercase(uint32_t codepoint) {
  const CaseRun* end = kLowercaseRuns + kLowercaseRunsSize;
  // The last run starting at or before the code point.
  const CaseRun* it =
      std::upper_bound(kLowercaseRuns, end, codepoint,
                       [](uint32_t cp, const CaseRun& run) { return cp < run.first; });
  if (it == kLowercaseRuns) return codepoint;
  --it;
  if (codepoint > it->last || (codepoint - it->first) % it->stride != 0) return codepoint;
  return static_cast<uint32_t>(static_cast<int64_t>(codepoint) + it->delta);
}

}  // namespace

bool is_nonspacing_mark(uint32_t codepoint) {
  const CodepointRange* end = kNonspacingMarks + kNonspacingMarksSize;
  const CodepointRange* it =
      std::lower_bound(kNonspacingMarks, end, codepoint,
                       [](const CodepointRange& range, uint32_t cp) { return range.last < cp; });
  return it != end && it->first <= codepoint;
}

void append_bert_normalized(uint32_t codepoint, std::string& out) {
  if (codepoint < 0x80) {  // the common case: ASCII only lowercases
    out += static_cast<char>(codepoint >= 'A' && codepoint <= 'Z' ? codepoint + 32 : codepoint);
    return;
  }
  if (codepoint >= kHangulFirst && codepoint <= kHangulLast) {
    append_hangul_jamo(codepoint, out);
    return;
  }
  if (is_nonspacing_mark(codepoint)) return;
  if (const auto* entry = find_entry(kDecompositions, kDecompositionsSize, codepoint)) {
    utf8_append(entry->to, out);
    return;
  }
  if (const auto* entry = find_entry(kExpansions, kExpansionsSize, codepoint)) {
    for (const uint32_t part : entry->to) {
      if (part != 0) utf8_append(part, out);
    }
    return;
  }
  utf8_append(lowercase(codepoint), out);
}

}  // namespace locara
