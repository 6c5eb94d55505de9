// Direct convolution kernel (dense, grouped, depthwise) for AArch64 NEON: the
// code of direct-inl.h, dw-in-place-inl.h and pad-plane-inl.h with the NEON
// vector type of direct-vec-inl.h (float32x4_t, vfmaq_f32, ld2 for pad_plane's
// stride-2 phase split, uzp1/uzp2 for the in-place stride-2 deinterleave),
// selected here by SIMDCONV_DIRECT_NEON.
#define SIMDCONV_DIRECT_NEON 1
#include "direct-inl.h"
#include "dw-in-place-inl.h"
#include "pad-plane-inl.h"

namespace simdconv {

const DirectKernel kDirectNeon = {Isa::Neon, "f32-direct-neon", direct_run, pad_plane,
                                  dw_in_place<3, 1>, dw_in_place<3, 2>, dw_in_place<5, 1>,
                                  dw_in_place<5, 2>};

}  // namespace simdconv
