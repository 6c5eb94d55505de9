// Direct convolution kernel (dense, grouped, depthwise) for AArch64 NEON: the
// code of direct-inl.h and pad-plane-inl.h with the NEON vector type of
// direct-vec-inl.h (float32x4_t, vfmaq_f32, ld2 for stride-2 phase splits),
// selected here by SIMDCONV_DIRECT_NEON.
#define SIMDCONV_DIRECT_NEON 1
#include "direct-inl.h"
#include "pad-plane-inl.h"

namespace simdconv {

const DirectKernel kDirectNeon = {Isa::Neon, "f32-direct-neon", direct_run, pad_plane};

}  // namespace simdconv
