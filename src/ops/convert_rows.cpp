#include "ops/convert_rows.h"

#include <cassert>
#include <cstddef>

#include "ops/type_traits.h"

namespace locara::ops {
namespace {

// The reference entry when there is one (bytes identical on every CPU), else the active.
const TypeTraits* conversion_traits(TensorType type) {
  const TypeTraits* reference = reference_type_traits(type);
  return reference != nullptr ? reference : type_traits(type);
}

}  // namespace

bool can_convert_to(TensorType type) {
  const TypeTraits* traits = conversion_traits(type);
  return traits != nullptr && traits->from_float != nullptr;
}

bool can_convert_from(TensorType type) {
  const TypeTraits* traits = conversion_traits(type);
  return traits != nullptr && traits->to_float != nullptr;
}

void quantize_rows(TensorType type, const float* src, void* dst, int64_t row_length, int64_t n_rows,
                   ThreadPool& pool) {
  const TypeTraits* traits = conversion_traits(type);
  assert(traits != nullptr && traits->from_float != nullptr);
  assert(row_length % traits->block_size == 0);
  const size_t row_bytes = traits->row_bytes(row_length);
  auto* out = static_cast<uint8_t*>(dst);
  pool.parallel_for(n_rows, [&](int64_t begin, int64_t end) {
    // One call per thread's rows: a row is a whole number of blocks, so rows back to
    // back are one run of blocks.
    traits->from_float(src + begin * row_length, out + static_cast<size_t>(begin) * row_bytes,
                       (end - begin) * row_length);
  });
}

void dequantize_rows(TensorType type, const void* src, float* dst, int64_t row_length,
                     int64_t n_rows, ThreadPool& pool) {
  const TypeTraits* traits = conversion_traits(type);
  assert(traits != nullptr && traits->to_float != nullptr);
  assert(row_length % traits->block_size == 0);
  const size_t row_bytes = traits->row_bytes(row_length);
  const auto* in = static_cast<const uint8_t*>(src);
  pool.parallel_for(n_rows, [&](int64_t begin, int64_t end) {
    traits->to_float(in + static_cast<size_t>(begin) * row_bytes, dst + begin * row_length,
                     (end - begin) * row_length);
  });
}

}  // namespace locara::ops
