// The oracle: a direct, obviously-correct convolution accumulated in double.
// Every optimised path is tested against it; it is never used for speed.
#pragma once
#include "simdconv/conv_params.h"

namespace simdconv {

// input [N, C, H, W], weight [Cout, C/groups, kH, kW], bias [Cout] or null,
// output [N, Cout, Hout, Wout] (sized by output_size()).
void reference_conv2d(const LayerParams& p, const CallShape& s, const float* input,
                      const float* weight, const float* bias, float* output);

}  // namespace simdconv
