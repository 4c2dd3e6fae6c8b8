// AVX-512 (F, BW, VL, DQ) with VNNI kernels (Ice Lake / Sapphire Rapids / Zen 4 and later).
#include "ops/kernel_table.h"

namespace locara::ops {

void install_avx512_kernels(KernelTable& table) {
  (void)table;
}

}  // namespace locara::ops
