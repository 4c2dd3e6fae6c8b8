// NEON kernels using the int8 dot-product instructions (ARMv8.2 dotprod: Apple M1+,
// Cortex-A76+); compiled with -march=armv8.2-a+dotprod.
#include "ops/kernel_table.h"

namespace locara::ops {

void install_dotprod_kernels(KernelTable& table) {
  (void)table;
}

}  // namespace locara::ops
