// The activation kernel (residual add + activation, activation_kernel.h) for
// AVX2 + FMA: act-inl.h with act-vec-inl.h's __m256 AV (tails through
// vmaskmovps), built with this ISA's flags.
#include "act-inl.h"

namespace simdconv {

const ActivationKernel kActAvx2 = {"f32-act-avx2", act_apply};

}  // namespace simdconv
