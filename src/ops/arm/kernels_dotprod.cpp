// NEON kernels using the int8 dot-product instructions (ARMv8.2 dotprod: Apple M1+,
// Cortex-A76+); compiled with -march=armv8.2-a+dotprod. Installed over the plain NEON
// ones, they replace only what SDOT speeds up: the integer dots of the quantized formats.
#include "ops/arm/arm_kernels.h"
#include "ops/kernel_table.h"

namespace locara::ops {

void install_dotprod_kernels(KernelTable& table) {
  arm::dotprod::install_quant_dot_kernels(table);
}

}  // namespace locara::ops
