// Helpers shared by the ops tests: reproducible random rows and row conversions through
// the reference table.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "gguf/tensor_type.h"
#include "ops/type_traits.h"

namespace locara::ops::test_support {

// The types with reference kernels, in GGUF order.
inline const std::vector<TensorType>& types_with_kernels() {
  static const std::vector<TensorType> types = {
      TensorType::kF32,  TensorType::kF16,  TensorType::kQ4_0, TensorType::kQ4_1, TensorType::kQ5_0,
      TensorType::kQ5_1, TensorType::kQ8_0, TensorType::kQ8_1, TensorType::kBF16};
  return types;
}

// n values uniform in [offset - scale, offset + scale), seeded for reproducibility.
inline std::vector<float> random_row(int64_t n, uint32_t seed, float scale = 1.0f,
                                     float offset = 0.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(offset - scale, offset + scale);
  std::vector<float> row(static_cast<size_t>(n));
  for (float& v : row) v = dist(rng);
  return row;
}

// from_float of the given table entry into freshly sized bytes.
inline std::vector<uint8_t> encode(const TypeTraits& traits, const std::vector<float>& row) {
  const auto n = static_cast<int64_t>(row.size());
  std::vector<uint8_t> bytes(traits.row_bytes(n));
  traits.from_float(row.data(), bytes.data(), n);
  return bytes;
}

inline std::vector<float> decode(const TypeTraits& traits, const std::vector<uint8_t>& bytes,
                                 int64_t n) {
  std::vector<float> row(static_cast<size_t>(n));
  traits.to_float(bytes.data(), row.data(), n);
  return row;
}

}  // namespace locara::ops::test_support
