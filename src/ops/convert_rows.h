// Whole-tensor conversion between weight types, rows split across a thread pool: what
// tools that write model files (quantize, synth) run, as ggml's quantize_chunk does.
#pragma once

#include <cstdint>

#include "gguf/tensor_type.h"
#include "ops/thread_pool.h"

namespace locara::ops {

// True when rows of `type` can be made from floats (its table entry has a from_float).
bool can_convert_to(TensorType type);
// True when rows of `type` can be read back as floats (its table entry has a to_float).
bool can_convert_from(TensorType type);

// Converts n_rows rows of row_length floats into `type`, written back to back into dst
// (n_rows * row bytes). Uses the reference rounding, so a file's bytes do not depend on
// the CPU that wrote it (ggml's quantize without an importance matrix rounds the same
// way). row_length must be a multiple of the type's block size; can_convert_to(type).
void quantize_rows(TensorType type, const float* src, void* dst, int64_t row_length, int64_t n_rows,
                   ThreadPool& pool);

// The inverse: n_rows rows of `type` to floats. can_convert_from(type).
void dequantize_rows(TensorType type, const void* src, float* dst, int64_t row_length,
                     int64_t n_rows, ThreadPool& pool);

}  // namespace locara::ops
