// Internal to ops/: the dispatch table type and the functions with which each
// instruction set's kernel file replaces entries of the reference table.
#pragma once

#include <array>

#include "ops/type_traits.h"

namespace locara::ops {

using KernelTable = std::array<TypeTraits, static_cast<size_t>(TensorType::kCount)>;

inline TypeTraits& entry(KernelTable& table, TensorType type) {
  return table[static_cast<size_t>(type)];
}

// Each is defined in its architecture's folder (x86/install_kernels.cpp,
// arm/kernels_*.cpp) and called by make_active_table() only when cpu_features() allows
// it, in this order, so a wider ISA overrides a narrower one.
void install_avx2_kernels(KernelTable& table);
void install_avx512_kernels(KernelTable& table);
void install_neon_kernels(KernelTable& table);
void install_dotprod_kernels(KernelTable& table);

}  // namespace locara::ops
