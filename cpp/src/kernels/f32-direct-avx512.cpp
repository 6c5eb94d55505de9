// Direct convolution kernel (depthwise / small groups) for avx512; the code is
// direct-inl.h, built here with this ISA's flags.
#include "direct-inl.h"

namespace simdconv {

const DirectKernel kDirectAvx512 = {Isa::Avx512, "f32-direct-avx512", direct_run, pad_plane,
                                    dw3_in_place<1>, dw3_in_place<2>};

}  // namespace simdconv
