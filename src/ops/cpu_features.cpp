#include "ops/cpu_features.h"

#include <cstdlib>
#include <string_view>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace locara::ops {
namespace {

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(_M_X64)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
    f.fma = (ecx >> 12) & 1;
    f.f16c = (ecx >> 29) & 1;
    const bool osxsave = (ecx >> 27) & 1;
    // The OS must save the wide registers across context switches (XCR0).
    unsigned xcr0 = 0;
    if (osxsave) {
      unsigned hi = 0;
      __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(hi) : "c"(0));
    }
    const bool ymm_saved = (xcr0 & 0x6) == 0x6;
    const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
      f.avx2 = ymm_saved && ((ebx >> 5) & 1);
      f.avx512f = zmm_saved && ((ebx >> 16) & 1);
      f.avx512dq = zmm_saved && ((ebx >> 17) & 1);
      f.avx512bw = zmm_saved && ((ebx >> 30) & 1);
      f.avx512vl = zmm_saved && ((ebx >> 31) & 1);
      f.avx512_vnni = zmm_saved && ((ecx >> 11) & 1);
      f.amx_bf16 = (edx >> 22) & 1;
      f.amx_int8 = (edx >> 25) & 1;
    }
    if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) {
      f.avx_vnni = ymm_saved && ((eax >> 4) & 1);
      f.avx512_bf16 = zmm_saved && ((eax >> 5) & 1);
    }
    if (!ymm_saved) f.fma = f.f16c = false;
  }
#elif defined(__aarch64__)
  f.neon = true;  // Advanced SIMD is mandatory on arm64.
#if defined(__linux__)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  f.dotprod = (hwcap & HWCAP_ASIMDDP) != 0;
  f.fp16_arith = (hwcap & HWCAP_ASIMDHP) != 0;
#elif defined(__APPLE__)
  f.dotprod = true;  // every Apple Silicon core has it
  f.fp16_arith = true;
#endif
#endif
  return f;
}

CpuFeatures apply_override(CpuFeatures f) {
  const char* cap = std::getenv("LOCARA_ISA");
  if (!cap) return f;
  const std::string_view isa(cap);
  if (isa == "reference") return CpuFeatures{};
  if (isa == "avx2") {
    f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = f.avx512_vnni = f.avx512_bf16 = false;
    f.amx_int8 = f.amx_bf16 = false;
  } else if (isa == "neon") {
    f.dotprod = false;
    f.fp16_arith = false;
  }
  return f;
}

}  // namespace

const CpuFeatures& detected_cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = apply_override(detected_cpu_features());
  return features;
}

std::string CpuFeatures::describe() const {
  std::string out;
  auto add = [&](bool has, const char* name) {
    if (!has) return;
    if (!out.empty()) out += ' ';
    out += name;
  };
  add(avx2, "avx2");
  add(fma, "fma");
  add(f16c, "f16c");
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512vl, "avx512vl");
  add(avx512dq, "avx512dq");
  add(avx512_vnni, "avx512_vnni");
  add(avx512_bf16, "avx512_bf16");
  add(avx_vnni, "avx_vnni");
  add(amx_int8, "amx_int8");
  add(amx_bf16, "amx_bf16");
  add(neon, "neon");
  add(dotprod, "dotprod");
  add(fp16_arith, "fp16");
  return out.empty() ? "none" : out;
}

std::string active_kernel_family() {
  const CpuFeatures& f = cpu_features();
  if (f.has_avx512_kernels()) return "avx512";
  if (f.has_avx2_kernels()) return "avx2";
  if (f.has_dotprod_kernels()) return "neon-dotprod";
  if (f.has_neon_kernels()) return "neon";
  return "reference";
}

}  // namespace locara::ops
