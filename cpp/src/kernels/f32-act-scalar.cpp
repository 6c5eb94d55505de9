// The activation kernel (residual add + activation, activation_kernel.h) for
// scalar: act-inl.h with act-vec-inl.h's one-lane AV, portable C++.
#include "act-inl.h"

namespace simdconv {

const ActivationKernel kActScalar = {"f32-act-scalar", act_apply};

}  // namespace simdconv
