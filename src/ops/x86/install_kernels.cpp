// Installs each x86 instruction set's kernels (x86_kernels.h, kquant_kernels.h) over the
// reference table: AVX2 + FMA + F16C (Haswell / Zen 1 and later), then AVX-512 F/BW/VL/DQ
// with VNNI (Ice Lake / Sapphire Rapids / Zen 4 and later), whose entries override AVX2's.
// Only the kernels' addresses are taken here, so this file is built without ISA flags.
#include "ops/cpu_features.h"
#include "ops/kernel_table.h"
#include "ops/x86/kquant_kernels.h"
#include "ops/x86/x86_kernels.h"

namespace locara::ops {
namespace {

void set_dot(KernelTable& table, TensorType type, VecDotFn vec_dot, GemmTileFn gemm_tile) {
  entry(table, type).vec_dot = vec_dot;
  entry(table, type).gemm_tile = gemm_tile;
}

// Both instruction sets name their kernels alike, in namespaces avx2 and avx512.
#define LOCARA_INSTALL_X86_KERNELS(table, isa)                                   \
  do {                                                                           \
    using T = TensorType;                                                        \
    set_dot(table, T::kF32, isa::vec_dot_f32, isa::gemm_tile_f32);               \
    set_dot(table, T::kF16, isa::vec_dot_f16, isa::gemm_tile_f16);               \
    set_dot(table, T::kBF16, isa::vec_dot_bf16, isa::gemm_tile_bf16);            \
    set_dot(table, T::kQ4_0, isa::vec_dot_q4_0_q8_0, isa::gemm_tile_q4_0);       \
    set_dot(table, T::kQ4_1, isa::vec_dot_q4_1_q8_1, isa::gemm_tile_q4_1);       \
    set_dot(table, T::kQ5_0, isa::vec_dot_q5_0_q8_0, isa::gemm_tile_q5_0);       \
    set_dot(table, T::kQ5_1, isa::vec_dot_q5_1_q8_1, isa::gemm_tile_q5_1);       \
    set_dot(table, T::kQ8_0, isa::vec_dot_q8_0_q8_0, isa::gemm_tile_q8_0);       \
    set_dot(table, T::kIQ4_NL, isa::vec_dot_iq4_nl_q8_0, isa::gemm_tile_iq4_nl); \
    set_dot(table, T::kQ2_K, isa::vec_dot_q2_k_q8_k, isa::gemm_tile_q2_k);       \
    set_dot(table, T::kQ3_K, isa::vec_dot_q3_k_q8_k, isa::gemm_tile_q3_k);       \
    set_dot(table, T::kQ4_K, isa::vec_dot_q4_k_q8_k, isa::gemm_tile_q4_k);       \
    set_dot(table, T::kQ5_K, isa::vec_dot_q5_k_q8_k, isa::gemm_tile_q5_k);       \
    set_dot(table, T::kQ6_K, isa::vec_dot_q6_k_q8_k, isa::gemm_tile_q6_k);       \
    set_dot(table, T::kIQ4_XS, isa::vec_dot_iq4_xs_q8_k, isa::gemm_tile_iq4_xs); \
    entry(table, T::kQ8_0).from_float = isa::from_float_q8_0;                    \
    entry(table, T::kQ8_1).from_float = isa::from_float_q8_1;                    \
    entry(table, T::kQ8_K).from_float = isa::from_float_q8_k;                    \
    entry(table, T::kF16).from_float = isa::from_float_f16;                      \
    entry(table, T::kF16).to_float = isa::to_float_f16;                          \
    entry(table, T::kBF16).from_float = isa::from_float_bf16;                    \
    entry(table, T::kBF16).to_float = isa::to_float_bf16;                        \
  } while (false)

}  // namespace

void install_avx2_kernels(KernelTable& table) {
  LOCARA_INSTALL_X86_KERNELS(table, avx2);
}

void install_avx512_kernels(KernelTable& table) {
  LOCARA_INSTALL_X86_KERNELS(table, avx512);
  // vdpbf16ps where the CPU has it; otherwise bf16 widens exactly to f32.
  if (cpu_features().avx512_bf16) {
    set_dot(table, TensorType::kBF16, avx512::vec_dot_bf16_dpbf16, avx512::gemm_tile_bf16_dpbf16);
  }
}

#undef LOCARA_INSTALL_X86_KERNELS

}  // namespace locara::ops
