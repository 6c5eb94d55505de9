// Direct convolution kernel (dense, grouped, depthwise) for avx2: the tap loops
// of direct-inl.h, the in-place depthwise kernels of dw-in-place-inl.h and
// pad_plane of pad-plane-inl.h, built here with this ISA's flags.
#include "direct-inl.h"
#include "dw-in-place-inl.h"
#include "pad-plane-inl.h"

namespace simdconv {

const DirectKernel kDirectAvx2 = {Isa::Avx2, "f32-direct-avx2", direct_run, pad_plane,
                                  dw_in_place<3, 1>, dw_in_place<3, 2>, dw_in_place<5, 1>,
                                  dw_in_place<5, 2>};

}  // namespace simdconv
