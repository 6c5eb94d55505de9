// The activation kernel (residual add + activation, activation_kernel.h) for
// AArch64 NEON: act-inl.h with act-vec-inl.h's float32x4_t AV, selected here
// by SIMDCONV_ACT_NEON.
#define SIMDCONV_ACT_NEON 1
#include "act-inl.h"

namespace simdconv {

const ActivationKernel kActNeon = {"f32-act-neon", act_apply};

}  // namespace simdconv
