// Internal to src/ops/arm/: the installers of each arm64 kernel file, called from
// install_neon_kernels (kernels_neon.cpp) and install_dotprod_kernels (kernels_dotprod.cpp).
#pragma once

#include "ops/kernel_table.h"

namespace locara::ops::arm {

// F32 and F16 dot products, F16 activation conversion (float_dot_neon.cpp).
void install_float_dot_kernels(KernelTable& table);
// Q8_0 / Q8_1 / Q8_K activation quantization, byte-identical to the reference (quantize_neon.cpp).
void install_quantize_kernels(KernelTable& table);

namespace neon {
// vec_dot and gemm_tile of the 32-element block formats and of the K formats
// (quant_dot_neon.cpp).
void install_quant_dot_kernels(KernelTable& table);
}  // namespace neon

namespace dotprod {
// The same kernels with the SDOT instruction (quant_dot_dotprod.cpp).
void install_quant_dot_kernels(KernelTable& table);
}  // namespace dotprod

}  // namespace locara::ops::arm
