// Advanced SIMD (NEON) kernels: the arm64 baseline.
#include "ops/kernel_table.h"

namespace locara::ops {

void install_neon_kernels(KernelTable& table) {
  (void)table;
}

}  // namespace locara::ops
