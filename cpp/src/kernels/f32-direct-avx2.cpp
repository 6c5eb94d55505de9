// Direct convolution kernel (depthwise / small groups) for avx2; the code is
// direct-inl.h, built here with this ISA's flags.
#include "direct-inl.h"

namespace simdconv {

const DirectKernel kDirectAvx2 = {Isa::Avx2, "f32-direct-avx2", direct_run, pad_plane};

}  // namespace simdconv
