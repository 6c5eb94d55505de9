// The activation kernel (residual add + activation, activation_kernel.h) for
// AVX-512: act-inl.h with act-vec-inl.h's __m512 AV (tails through masked
// loads and stores), built with this ISA's flags.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's avx512fintrin.h initialises the unused source of the unmasked
// intrinsics (min, max, roundscale, cvtps, slli) from itself, which
// -Wuninitialized reports at every use (GCC bug 105593); nothing is read.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "act-inl.h"

namespace simdconv {

const ActivationKernel kActAvx512 = {"f32-act-avx512", act_apply};

}  // namespace simdconv
