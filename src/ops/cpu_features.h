// What the CPU we run on can execute, read once at start-up; it decides which kernels
// fill the dispatch table. LOCARA_ISA=reference|avx2|avx512|neon caps the choice (tests).
#pragma once

#include <string>

namespace locara::ops {

struct CpuFeatures {
  // x86-64
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool avx_vnni = false;
  bool amx_int8 = false;
  bool amx_bf16 = false;
  // arm64
  bool neon = false;
  bool dotprod = false;
  bool fp16_arith = false;

  // The kernel families usable here (all required features present).
  bool has_avx2_kernels() const { return avx2 && fma && f16c; }
  bool has_avx512_kernels() const {
    return avx512f && avx512bw && avx512vl && avx512dq && avx512_vnni && has_avx2_kernels();
  }
  bool has_neon_kernels() const { return neon; }
  bool has_dotprod_kernels() const { return neon && dotprod; }
  std::string describe() const;  // e.g. "avx2 fma f16c avx512f ... avx512_vnni"
};

// The machine's features as detected (cpuid / HWCAP), without any override.
const CpuFeatures& detected_cpu_features();
// The features the kernels may use: detected ones, capped by LOCARA_ISA if set.
const CpuFeatures& cpu_features();
// The widest kernel family in use: "reference", "avx2", "avx512", "neon" or "neon-dotprod".
std::string active_kernel_family();

}  // namespace locara::ops
