// Helpers of the x86 kernel tests: one dispatch table per x86 instruction set (the
// reference table with only that ISA's kernels installed), and test rows.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gguf/tensor_type.h"
#include "ops/cpu_features.h"
#include "ops/half.h"
#include "ops/kernel_table.h"
#include "ops/quant_blocks.h"
#include "ops/type_traits.h"
#include "test_rows.h"

namespace locara::ops::test_support {

struct X86Isa {
  std::string name;
  bool available = false;  // the CPU runs it (detected, whatever LOCARA_ISA says)
  KernelTable table{};
};

inline KernelTable reference_copy() {
  KernelTable table{};
  for (size_t i = 0; i < table.size(); ++i) {
    if (const TypeTraits* ref = reference_type_traits(static_cast<TensorType>(i))) table[i] = *ref;
  }
  return table;
}

// Looks an ISA up by name ("avx2", "avx512"); its table holds only its own kernels over
// the reference ones, so a test of it covers exactly that ISA's code.
inline const X86Isa& x86_isa(const std::string& name) {
  static const std::vector<X86Isa> isas = [] {
    const CpuFeatures& cpu = detected_cpu_features();
    X86Isa avx2{"avx2", cpu.has_avx2_kernels(), reference_copy()};
    X86Isa avx512{"avx512", cpu.has_avx512_kernels(), reference_copy()};
#if defined(__x86_64__)
    if (avx2.available) install_avx2_kernels(avx2.table);
    if (avx512.available) install_avx512_kernels(avx512.table);
#endif
    return std::vector<X86Isa>{avx2, avx512};
  }();
  for (const X86Isa& isa : isas) {
    if (isa.name == name) return isa;
  }
  return isas.front();
}

inline const TypeTraits& reference(TensorType type) {
  return *reference_type_traits(type);
}

// The 32-element block formats and the plain float types these kernels cover.
inline const std::vector<TensorType>& x86_dot_types() {
  static const std::vector<TensorType> types = {
      TensorType::kF32,  TensorType::kF16,  TensorType::kBF16,
      TensorType::kQ4_0, TensorType::kQ4_1, TensorType::kQ5_0,
      TensorType::kQ5_1, TensorType::kQ8_0, TensorType::kIQ4_NL};
  return types;
}

inline bool is_float_type(TensorType type) {
  return type == TensorType::kF32 || type == TensorType::kF16 || type == TensorType::kBF16;
}

// A weight row of n elements: the reference quantization of random floats, or (raw)
// random bytes with sane fp16 scales, which reaches every quant byte pattern (Q8_0's
// -128, all Q5 high bits) that real files may hold.
inline std::vector<uint8_t> weight_row(TensorType type, int64_t n, uint32_t seed, bool raw) {
  const TypeTraits& traits = reference(type);
  if (!raw || is_float_type(type)) {
    return encode(traits, random_row(n, seed, 1.0f, raw ? 0.0f : 0.1f));
  }
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(traits.row_bytes(n));
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> scale(0.001f, 0.1f);
  const bool has_min = type == TensorType::kQ4_1 || type == TensorType::kQ5_1;
  for (size_t offset = 0; offset < bytes.size(); offset += traits.type_size) {
    const uint16_t d = fp32_to_fp16(scale(rng));
    const uint16_t m = fp32_to_fp16(-scale(rng));
    bytes[offset] = static_cast<uint8_t>(d);
    bytes[offset + 1] = static_cast<uint8_t>(d >> 8);
    if (has_min) {
      bytes[offset + 2] = static_cast<uint8_t>(m);
      bytes[offset + 3] = static_cast<uint8_t>(m >> 8);
    }
  }
  return bytes;
}

// An activation row as matmul makes it: floats through the reference from_float of the
// weight type's vec_dot_type (F32 rows are the floats themselves).
inline std::vector<uint8_t> activation_row(TensorType type, int64_t n, uint32_t seed) {
  return encode(reference(reference(type).vec_dot_type), random_row(n, seed, 2.0f));
}

// Elements per block of the type (1 for the float types).
inline int64_t block_size(TensorType type) {
  return reference(type).block_size;
}

}  // namespace locara::ops::test_support
