// The generated tables behind unicode_data.h: unicode_data_tables.cpp, written by
// gen_unicode_data.py from one Unicode version. All sorted by code point.
#pragma once

#include <cstddef>
#include <cstdint>

namespace locara::unicode_tables {

struct CodepointRange {
  uint32_t first;
  uint32_t last;  // inclusive
};

// first, first + stride, ..., last each map to itself plus delta.
struct CaseRun {
  uint32_t first;
  uint32_t last;
  uint32_t stride;
  int32_t delta;
};

struct CodepointMapping {
  uint32_t from;
  uint32_t to;
};

struct CodepointExpansion {
  uint32_t from;
  uint32_t to[3];  // unused tail entries are 0
};

extern const CodepointRange kNonspacingMarks[];
extern const size_t kNonspacingMarksSize;
extern const CaseRun kLowercaseRuns[];
extern const size_t kLowercaseRunsSize;
extern const CodepointMapping kDecompositions[];
extern const size_t kDecompositionsSize;
extern const CodepointExpansion kExpansions[];
extern const size_t kExpansionsSize;

}  // namespace locara::unicode_tables
