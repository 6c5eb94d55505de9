#include "simdconv/isa.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "simdconv/gemm_kernel.h"

#if defined(__x86_64__) || defined(_M_X64)
#include "x86_cpuid.h"
#endif

namespace simdconv {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Neon: return "neon";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "unknown";
}

bool parse_isa(const char* name, Isa* out) {
  static const Isa all[] = {Isa::Scalar, Isa::Neon, Isa::Avx2, Isa::Avx512};
  for (Isa i : all)
    if (std::strcmp(name, isa_name(i)) == 0) { *out = i; return true; }
  return false;
}

namespace {
#if defined(__x86_64__) || defined(_M_X64)
// cpuid says what the core implements; XCR0 says which register state the OS
// saves on context switch. Both are needed before using AVX/AVX-512 registers.
unsigned long long xgetbv0() {
#if defined(_MSC_VER) && !defined(__clang__)
  return _xgetbv(0);  // MSVC has no inline asm on x64
#else
  unsigned int eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
#endif
}
struct X86Features {
  bool avx2 = false, avx512 = false;
  X86Features() {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
    if (!osxsave || !avx) return;
    const unsigned long long xcr0 = xgetbv0();
    const bool ymm_saved = (xcr0 & 0x6) == 0x6;            // SSE + AVX state
    const bool zmm_saved = (xcr0 & 0xE6) == 0xE6;          // + opmask, ZMM_Hi256, Hi16_ZMM
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    const bool has_avx2 = b & (1u << 5);
    const bool has_avx512f = b & (1u << 16), has_avx512dq = b & (1u << 17),
               has_avx512bw = b & (1u << 30), has_avx512vl = b & (1u << 31);
    avx2 = ymm_saved && fma && has_avx2;
    avx512 = avx2 && zmm_saved && has_avx512f && has_avx512dq && has_avx512bw && has_avx512vl;
  }
};
const X86Features& x86() { static const X86Features f; return f; }
#endif
}  // namespace

bool cpu_supports(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
#if defined(__x86_64__) || defined(_M_X64)
    case Isa::Avx2: return x86().avx2;
    case Isa::Avx512: return x86().avx512;
    case Isa::Neon: return false;
#elif defined(__aarch64__)
    case Isa::Neon: return true;
    default: return false;
#else
    default: return false;
#endif
  }
  return false;
}

namespace {
Isa detect_active() {
  Isa cap = Isa::Avx512;
  if (const char* env = std::getenv("SIMDCONV_MAX_ISA")) {
    Isa parsed;
    if (*env && parse_isa(env, &parsed))
      cap = parsed;
    else if (*env)
      std::fprintf(stderr, "simdconv: ignoring SIMDCONV_MAX_ISA=%s (expected scalar, neon, avx2 or avx512)\n", env);
  }
  static const Isa order[] = {Isa::Avx512, Isa::Avx2, Isa::Neon, Isa::Scalar};
  for (Isa i : order)
    if (static_cast<int>(i) <= static_cast<int>(cap) && cpu_supports(i) &&
        gemm_kernel_for(i) != nullptr)
      return i;
  return Isa::Scalar;
}
}  // namespace

Isa active_isa() {
  static const Isa isa = detect_active();
  return isa;
}

}  // namespace simdconv
