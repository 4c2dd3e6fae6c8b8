// Advanced SIMD (NEON) kernels: the arm64 baseline, on every arm64 CPU.
#include "ops/arm/arm_kernels.h"
#include "ops/kernel_table.h"

namespace locara::ops {

void install_neon_kernels(KernelTable& table) {
  arm::install_float_dot_kernels(table);
  arm::install_quantize_kernels(table);
  arm::neon::install_quant_dot_kernels(table);
}

}  // namespace locara::ops
