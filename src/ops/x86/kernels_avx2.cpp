// AVX2 + FMA + F16C kernels (x86-64 since Haswell / Zen 1); compiled with -mavx2 -mfma.
#include "ops/kernel_table.h"
#include "ops/x86/kquant_kernels.h"
#include "ops/x86/x86_kernels.h"

namespace locara::ops {

void install_avx2_kernels(KernelTable& table) {
  using T = TensorType;
  namespace k = avx2;
  const auto set_dot = [&](T type, VecDotFn vec_dot, GemmTileFn gemm_tile) {
    entry(table, type).vec_dot = vec_dot;
    entry(table, type).gemm_tile = gemm_tile;
  };
  set_dot(T::kF32, k::vec_dot_f32, k::gemm_tile_f32);
  set_dot(T::kF16, k::vec_dot_f16, k::gemm_tile_f16);
  set_dot(T::kBF16, k::vec_dot_bf16, k::gemm_tile_bf16);
  set_dot(T::kQ4_0, k::vec_dot_q4_0_q8_0, k::gemm_tile_q4_0);
  set_dot(T::kQ4_1, k::vec_dot_q4_1_q8_1, k::gemm_tile_q4_1);
  set_dot(T::kQ5_0, k::vec_dot_q5_0_q8_0, k::gemm_tile_q5_0);
  set_dot(T::kQ5_1, k::vec_dot_q5_1_q8_1, k::gemm_tile_q5_1);
  set_dot(T::kQ8_0, k::vec_dot_q8_0_q8_0, k::gemm_tile_q8_0);

  entry(table, T::kQ8_0).from_float = k::from_float_q8_0;
  entry(table, T::kQ8_1).from_float = k::from_float_q8_1;
  entry(table, T::kF16).from_float = k::from_float_f16;
  entry(table, T::kF16).to_float = k::to_float_f16;
  entry(table, T::kBF16).from_float = k::from_float_bf16;
  entry(table, T::kBF16).to_float = k::to_float_bf16;
  install_kquant_avx2_kernels(table);
}

}  // namespace locara::ops
