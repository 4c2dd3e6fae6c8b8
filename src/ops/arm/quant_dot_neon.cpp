// vec_dot and gemm_tile of the 32-element block formats and of the K formats for every
// arm64 CPU: plain NEON, widening multiplies and pairwise adds in place of SDOT.
#include "ops/arm/quant_dot_neon.h"

#include "ops/arm/arm_kernels.h"
#include "ops/arm/kquant_dot_neon.h"

#if defined(__ARM_FEATURE_DOTPROD)
#error "quant_dot_neon.cpp must build without +dotprod: it is the fallback for CPUs without it"
#endif

namespace locara::ops::arm::neon {

void install_quant_dot_kernels(KernelTable& table) {
  install_block_formats(table);
  install_k_formats(table);
}

}  // namespace locara::ops::arm::neon
