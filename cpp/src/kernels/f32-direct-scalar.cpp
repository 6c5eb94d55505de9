// Direct convolution kernel (dense, grouped, depthwise) for scalar: the tap
// loops of direct-inl.h and pad_plane of pad-plane-inl.h, built here with
// this ISA's flags. No in-place depthwise kernels: without vector shuffles
// and masked loads the padded copy and fn are the faster path here
// (bench_kernels dw).
#include "direct-inl.h"
#include "pad-plane-inl.h"

namespace simdconv {

const DirectKernel kDirectScalar = {Isa::Scalar, "f32-direct-scalar", direct_run, pad_plane};

}  // namespace simdconv
