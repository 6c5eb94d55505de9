// Direct convolution kernel (dense, grouped, depthwise) for avx2: the tap loops
// of direct-inl.h and pad_plane of pad-plane-inl.h, built here with
// this ISA's flags.
#include "direct-inl.h"
#include "pad-plane-inl.h"

namespace simdconv {

const DirectKernel kDirectAvx2 = {Isa::Avx2, "f32-direct-avx2", direct_run, pad_plane};

}  // namespace simdconv
