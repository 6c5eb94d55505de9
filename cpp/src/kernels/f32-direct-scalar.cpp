// Direct convolution kernel (depthwise / small groups) for scalar; the code is
// direct-inl.h, built here with this ISA's flags.
#include "direct-inl.h"

namespace simdconv {

const DirectKernel kDirectScalar = {Isa::Scalar, "f32-direct-scalar", direct_run, pad_plane};

}  // namespace simdconv
