#include "ops/vector_kernels.h"

#include "ops/cpu_features.h"
#include "ops/vector_math.h"

namespace locara::ops {
namespace {

VectorKernels make_reference() {
  VectorKernels kernels;
  kernels.softmax = softmax_ref;
  kernels.swiglu = swiglu_ref;
  return kernels;
}

VectorKernels make_active() {
  VectorKernels kernels = make_reference();
  const CpuFeatures& cpu = cpu_features();
#if defined(__x86_64__) || defined(_M_X64)
  if (cpu.has_avx2_kernels()) install_avx2_vector_kernels(kernels);
  if (cpu.has_avx512_kernels()) install_avx512_vector_kernels(kernels);
#elif defined(__aarch64__)
  if (cpu.has_neon_kernels()) install_neon_vector_kernels(kernels);
#endif
  (void)cpu;
  return kernels;
}

}  // namespace

const VectorKernels& vector_kernels() {
  static const VectorKernels kernels = make_active();
  return kernels;
}

const VectorKernels& reference_vector_kernels() {
  static const VectorKernels kernels = make_reference();
  return kernels;
}

}  // namespace locara::ops
