// The quantized formats' dots (quant_dot_neon.h, kquant_dot_neon.h) with the ARMv8.2 SDOT
// instruction (Apple M1 and later, Cortex-A76 and later, Neoverse); built with +dotprod.
#include "ops/arm/arm_kernels.h"
#include "ops/arm/kquant_dot_neon.h"
#include "ops/arm/quant_dot_neon.h"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "quant_dot_dotprod.cpp needs -march=...+dotprod (see src/ops/CMakeLists.txt)"
#endif

namespace locara::ops::arm::dotprod {

void install_quant_dot_kernels(KernelTable& table) {
  install_block_formats(table);
  install_k_formats(table);
}

}  // namespace locara::ops::arm::dotprod
