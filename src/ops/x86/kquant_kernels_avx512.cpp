// Installs the AVX-512 VNNI kernels of the K formats and of Q8_K activation
// quantization (called at the end of install_avx512_kernels).
#include "ops/kernel_table.h"
#include "ops/x86/kquant_kernels.h"

namespace locara::ops {

void install_kquant_avx512_kernels(KernelTable& table) {
  using T = TensorType;
  namespace k = avx512;
  entry(table, T::kQ8_K).from_float = k::from_float_q8_k;
  entry(table, T::kQ4_K).vec_dot = k::vec_dot_q4_k_q8_k;
  entry(table, T::kQ4_K).gemm_tile = k::gemm_tile_q4_k;
  entry(table, T::kQ5_K).vec_dot = k::vec_dot_q5_k_q8_k;
  entry(table, T::kQ5_K).gemm_tile = k::gemm_tile_q5_k;
  entry(table, T::kQ6_K).vec_dot = k::vec_dot_q6_k_q8_k;
  entry(table, T::kQ6_K).gemm_tile = k::gemm_tile_q6_k;
  entry(table, T::kIQ4_XS).vec_dot = k::vec_dot_iq4_xs_q8_k;
}

}  // namespace locara::ops
