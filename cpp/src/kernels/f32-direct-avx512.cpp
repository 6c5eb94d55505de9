// Direct convolution kernel (dense, grouped, depthwise) for avx512: the tap
// loops of direct-inl.h, pad_plane of pad-plane-inl.h and the in-place 3x3
// depthwise kernels of dw3-in-place-avx512-inl.h, built here with this ISA's
// flags.
#include "direct-inl.h"
#include "dw3-in-place-avx512-inl.h"
#include "pad-plane-inl.h"

namespace simdconv {

const DirectKernel kDirectAvx512 = {Isa::Avx512, "f32-direct-avx512", direct_run, pad_plane,
                                    dw3_in_place<1>, dw3_in_place<2>};

}  // namespace simdconv
