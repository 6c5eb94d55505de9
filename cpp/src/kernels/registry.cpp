// The capability table (kernels.h): one IsaKernels per ISA compiled in,
// filled by field name. Adding a kernel family or an ISA is a field here,
// not a switch in each family.
#include "simdconv/kernels.h"

namespace simdconv {

namespace {

IsaKernels scalar_kernels() {
  IsaKernels k;
  k.isa = Isa::Scalar;
  k.gemm = &kGemmScalar;
  k.direct = &kDirectScalar;
  k.act = &kActScalar;
  return k;
}

#if defined(SIMDCONV_HAVE_AVX2)
IsaKernels avx2_kernels() {
  IsaKernels k;
  k.isa = Isa::Avx2;
  k.gemm = &kGemmAvx2;
  k.direct = &kDirectAvx2;
  k.act = &kActAvx2;
  k.winograd = &kWinogradAvx2;
  return k;
}
#endif

#if defined(SIMDCONV_HAVE_AVX512)
IsaKernels avx512_kernels() {
  IsaKernels k;
  k.isa = Isa::Avx512;
  k.gemm = &kGemmAvx512;
  k.direct = &kDirectAvx512;
  k.act = &kActAvx512;
  k.winograd = &kWinogradAvx512;
  return k;
}
#endif

#if defined(SIMDCONV_HAVE_NEON)
IsaKernels neon_kernels() {
  IsaKernels k;
  k.isa = Isa::Neon;
  k.gemm = &kGemmNeon;
  k.direct = &kDirectNeon;
  k.act = &kActNeon;
  return k;
}
#endif

}  // namespace

const IsaKernels* kernels_for(Isa isa) {
  static const IsaKernels scalar = scalar_kernels();
#if defined(SIMDCONV_HAVE_AVX2)
  static const IsaKernels avx2 = avx2_kernels();
  if (isa == Isa::Avx2) return &avx2;
#endif
#if defined(SIMDCONV_HAVE_AVX512)
  static const IsaKernels avx512 = avx512_kernels();
  if (isa == Isa::Avx512) return &avx512;
#endif
#if defined(SIMDCONV_HAVE_NEON)
  static const IsaKernels neon = neon_kernels();
  if (isa == Isa::Neon) return &neon;
#endif
  return isa == Isa::Scalar ? &scalar : nullptr;
}

// The per-family look-ups read the table (kept for the kernel tests and isa.cpp).
const GemmKernel* gemm_kernel_for(Isa isa) {
  const IsaKernels* k = kernels_for(isa);
  return k != nullptr ? k->gemm : nullptr;
}

const DirectKernel* direct_kernel_for(Isa isa) {
  const IsaKernels* k = kernels_for(isa);
  return k != nullptr ? k->direct : nullptr;
}

const WinogradKernel* winograd_kernel_for(Isa isa) {
  const IsaKernels* k = kernels_for(isa);
  return k != nullptr ? k->winograd : nullptr;
}

// All kernels of a family compiled in that this CPU can run, scalar first (for tests).
template <class K>
static int runnable(const K* IsaKernels::*field, const K** out, int max) {
  static const Isa order[] = {Isa::Scalar, Isa::Neon, Isa::Avx2, Isa::Avx512};
  int n = 0;
  for (Isa i : order) {
    const IsaKernels* k = kernels_for(i);
    if (k != nullptr && k->*field != nullptr && cpu_supports(i) && n < max) out[n++] = k->*field;
  }
  return n;
}

int runnable_gemm_kernels(const GemmKernel** out, int max) {
  return runnable(&IsaKernels::gemm, out, max);
}

int runnable_direct_kernels(const DirectKernel** out, int max) {
  return runnable(&IsaKernels::direct, out, max);
}

}  // namespace simdconv
