// Which GEMM microkernel serves which ISA (filled at compile time; the choice
// among them is made once, in active_isa()).
#include "simdconv/gemm_kernel.h"

namespace simdconv {

const GemmKernel* gemm_kernel_for(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return &kGemmScalar;
#if defined(SIMDCONV_HAVE_AVX2)
    case Isa::Avx2: return &kGemmAvx2;
#endif
#if defined(SIMDCONV_HAVE_AVX512)
    case Isa::Avx512: return &kGemmAvx512;
#endif
#if defined(SIMDCONV_HAVE_NEON)
    case Isa::Neon: return &kGemmNeon;
#endif
    default: return nullptr;
  }
}

int runnable_gemm_kernels(const GemmKernel** out, int max) {
  static const Isa order[] = {Isa::Scalar, Isa::Neon, Isa::Avx2, Isa::Avx512};
  int n = 0;
  for (Isa i : order) {
    const GemmKernel* k = gemm_kernel_for(i);
    if (k && cpu_supports(i) && n < max) out[n++] = k;
  }
  return n;
}

}  // namespace simdconv

#include "simdconv/direct_kernel.h"

namespace simdconv {

const DirectKernel* direct_kernel_for(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return &kDirectScalar;
#if defined(SIMDCONV_HAVE_AVX2)
    case Isa::Avx2: return &kDirectAvx2;
#endif
#if defined(SIMDCONV_HAVE_AVX512)
    case Isa::Avx512: return &kDirectAvx512;
#endif
#if defined(SIMDCONV_HAVE_NEON)
    case Isa::Neon: return &kDirectNeon;
#endif
    default: return nullptr;
  }
}

int runnable_direct_kernels(const DirectKernel** out, int max) {
  static const Isa order[] = {Isa::Scalar, Isa::Neon, Isa::Avx2, Isa::Avx512};
  int n = 0;
  for (Isa i : order) {
    const DirectKernel* k = direct_kernel_for(i);
    if (k && cpu_supports(i) && n < max) out[n++] = k;
  }
  return n;
}

}  // namespace simdconv
